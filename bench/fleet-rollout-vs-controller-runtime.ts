/**
 * The fleet rollout against the field's reference runtime: the same 1,000 approved McpServers
 * rolled out by the operator and by a controller-runtime program doing the same reconcile
 * (bench/controller-runtime: the same children, created the same way, the same status by
 * server-side apply), each as its own process on the same control plane at the same client QPS
 * limit and concurrency, one after the other. Figure: the operator's time over the peer's, at
 * 50 QPS (the rate limit decides) and at 1,000 QPS (CPU decides). On stderr: each one's writes
 * per server from the API server's audit log, a check that both wrote the same children, and
 * each one's peak RSS at BENCH_RSS_SERVERS (5,000; 0 skips it), for the runners in
 * BENCH_RSS_RUNNERS (operator,controller-runtime).
 *   node dist/bench/fleet-rollout-vs-controller-runtime.js   BENCH_FLEET_SERVERS BENCH_FLEET_QPS BENCH_RSS_SERVERS BENCH_RSS_RUNNERS
 * The peer is built once into the cache (bench/controller-runtime/build.sh; Go, a baseline only).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { KubeClient, type KubeObject } from "../runtime/index.js";
import { clusterUp } from "../local/cluster/cli.js";
import { adminConfig, deleteNamespace, testNamespace } from "../local/cluster/harness.js";
import { adminKubeconfigPath, clusterDir, repoRoot } from "../local/cluster/paths.js";
import { McpServerSpec } from "../crds/index.js";
import { APPLIED_HASH_ANNOTATION } from "../mcpserver/names.js";
import { McpServerType, type McpServerObject } from "../mcpserver/type.js";
import { CHILD_TYPES, desiredChildren } from "../operator/children.js";
import { servedSpec } from "../operator/spec-hash.js";
import { auditOffset, ensureVerifierAccount, grantRoles, spawnOperator } from "../test/operator/harness.js";
import { describeWrites, peakRssMb, progress as progressOf, rollout, writesSince } from "./fleet-runs.js";

const N = Number(process.env.BENCH_FLEET_SERVERS ?? 1000);
const QPS = (process.env.BENCH_FLEET_QPS ?? "50,1000").split(",").filter(Boolean).map(Number);
const RSS_SERVERS = Number(process.env.BENCH_RSS_SERVERS ?? 5000);
const RUNNERS = ["operator", "controller-runtime"] as const;
type Runner = (typeof RUNNERS)[number];
const RSS_RUNNERS = (process.env.BENCH_RSS_RUNNERS ?? RUNNERS.join(",")).split(",").filter(Boolean);
for (const r of RSS_RUNNERS) if (!(RUNNERS as readonly string[]).includes(r)) throw new Error(`BENCH_RSS_RUNNERS: "${r}" is not one of ${RUNNERS.join(", ")}`);
const TARGETS: Record<number, number> = { 50: 1.1, 1000: 1.5 };
const CONCURRENCY = 16;
const progress = progressOf("fleet-rollout-vs-controller-runtime");

const USER_AGENT: Record<Runner, string> = { operator: "fleet-operator", "controller-runtime": "fleet-controller-runtime" };

function buildPeer(): string {
  const script = join(repoRoot(), "bench", "controller-runtime", "build.sh");
  const out = spawnSync("bash", [script], { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
  if (out.status !== 0) throw new Error(`${script} failed (exit ${out.status})`);
  return out.stdout.trim().split("\n").at(-1)!;
}

interface Controller {
  child: ChildProcess;
  exited: Promise<number | null>;
}

async function startController(runner: Runner, peer: string, ns: string, qps: number): Promise<Controller> {
  if (runner === "operator") {
    const op = await spawnOperator("bench-vs-cr", [`--namespaces=${ns}`, "--leader-elect=false", "--required-reviews=security", `--kube-api-qps=${qps}`, `--kube-api-burst=${qps * 2}`, `--concurrency=${CONCURRENCY}`, "--log-level=warn", `--user-agent=${USER_AGENT[runner]}`]);
    const readyz = `http://127.0.0.1:${op.metricsPort}/readyz`;
    for (let i = 0; i < 300 && (await fetch(readyz).then((r) => r.status, () => 0)) !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    return { child: op.child, exited: op.exited };
  }
  const out = openSync(join(clusterDir(), "logs", "controller-runtime-peer.log"), "a");
  const child = spawn(peer, [`--namespace=${ns}`, "--required-reviews=security", `--kube-api-qps=${qps}`, `--concurrency=${CONCURRENCY}`, `--user-agent=${USER_AGENT[runner]}`, `--kubeconfig=${adminKubeconfigPath()}`], { stdio: ["ignore", out, out] });
  closeSync(out);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited };
}

/** The peer's children are the operator's: each carries the applied hash the operator's builders give its server. */
async function sameChildren(ns: string): Promise<void> {
  const admin = new KubeClient(adminConfig(), { qps: 200, burst: 400, userAgent: "fleet-observer" });
  const live = new Map<string, string | undefined>();
  for (const type of CHILD_TYPES) {
    for (const o of (await admin.list<KubeObject>(type, { namespace: ns })).items) live.set(`${type.kind}/${o.metadata.name}`, o.metadata.annotations?.[APPLIED_HASH_ANNOTATION]);
  }
  const config = { registryPrefix: "dev.toolfleet.local", clusterDomain: "cluster.local", ingressNamespaces: ["toolfleet-system"], verifierServiceAccount: "toolfleet-system/toolfleet-operator", auth: {} };
  let same = 0;
  const differ: string[] = [];
  for (const server of (await admin.list<McpServerObject>(McpServerType, { namespace: ns })).items) {
    const spec = servedSpec(McpServerSpec.parse(server.spec));
    for (const c of desiredChildren(server, spec, spec.workload!.replicas, config)) {
      const key = `${c.type.kind}/${c.object.metadata.name}`;
      if (live.get(key) === c.appliedHash) same++;
      else differ.push(key);
    }
  }
  if (differ.length > 0) throw new Error(`the peer's children differ from the operator's builders: ${differ.slice(0, 5).join(", ")} and ${Math.max(0, differ.length - 5)} more`);
  progress(`the peer's ${same} children are the operator's, byte for byte (applied hashes)`);
}

async function run(runner: Runner, peer: string, qps: number, n: number): Promise<{ seconds: number; rssMb: number; ns: string }> {
  const ns = await testNamespace(runner === "operator" ? "bench-op" : "bench-cr");
  await grantRoles(ns, ["toolfleet:security-reviewers"]);
  const offset = auditOffset();
  const controller = await startController(runner, peer, ns, qps);
  try {
    const seconds = await rollout(ns, n, progress, runner);
    const rssMb = peakRssMb(controller.child);
    progress(`${runner} at ${qps} QPS, ${n} servers: ${seconds.toFixed(1)} s, peak RSS ${rssMb.toFixed(0)} MB, ${describeWrites(writesSince(offset, ns, USER_AGENT[runner]), n)}`);
    return { seconds, rssMb, ns };
  } finally {
    controller.child.kill("SIGTERM");
    await controller.exited;
  }
}

async function main(): Promise<void> {
  await clusterUp();
  // As an install has it: the operator verifies each server's tools as this account.
  await ensureVerifierAccount();
  const peer = buildPeer();
  progress(`peer: ${peer}`);
  const figures: string[] = [];
  for (const qps of QPS) {
    progress(`${N} servers at ${qps} QPS`);
    const op = await run("operator", peer, qps, N);
    const cr = await run("controller-runtime", peer, qps, N);
    await sameChildren(cr.ns);
    progress("removing the namespaces");
    await deleteNamespace(op.ns, { wait: true });
    await deleteNamespace(cr.ns, { wait: true });
    figures.push(`${(op.seconds / cr.seconds).toFixed(2)} at ${qps} QPS`);
  }
  if (RSS_SERVERS > 0) {
    for (const runner of RUNNERS.filter((r) => RSS_RUNNERS.includes(r))) {
      const r = await run(runner, peer, 1000, RSS_SERVERS);
      progress(`peak RSS at ${RSS_SERVERS} servers: ${runner} ${r.rssMb.toFixed(0)} MB`);
      await deleteNamespace(r.ns, { wait: true });
    }
  }
  const targets = QPS.map((q) => `<= ${TARGETS[q] ?? 1.5} at ${q} QPS`).join(", ");
  process.stdout.write(`bench fleet-rollout-vs-controller-runtime: ${figures.join(", ")} (target ${targets})\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`[fleet-rollout-vs-controller-runtime] failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
