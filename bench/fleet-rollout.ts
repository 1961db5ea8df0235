/**
 * Fleet rollout: N approved workload McpServers from `apply` to all Ready, against the floor
 * of writing the same children (ServiceAccount, policy ConfigMap, Service, NetworkPolicy, then
 * the Deployment, as the operator writes them) directly with one client at the same QPS limit,
 * to all Deployments Ready. At 50 QPS the client's rate limit decides; at 1,000 QPS, CPU does.
 * Both runs go through the same control plane (controller-manager, scheduler, kwok) one after
 * the other; the operator runs as its own process, as in production. Each one's writes per
 * server come from the API server's audit log.
 *   node dist/bench/fleet-rollout.js            BENCH_FLEET_SERVERS=1000 BENCH_FLEET_QPS=50,1000
 * stdout: `bench fleet-rollout: …x floor at 50 QPS, …x at 1000 QPS (target …)`; stderr: progress, seconds, writes.
 */
import { McpServerSpec } from "../crds/index.js";
import { desiredChildren, runsPods } from "../operator/children.js";
import { McpServerType, type McpServerObject } from "../mcpserver/type.js";
import { FIELD_MANAGER } from "../mcpserver/names.js";
import { KubeClient, type KubeObject } from "../runtime/index.js";
import { clusterUp } from "../local/cluster/cli.js";
import { adminConfig, deleteNamespace, testNamespace } from "../local/cluster/harness.js";
import { deployments, ensureCreated, inParallel, isReadyDeployment, watchUntil } from "../test/operator/fleet.js";
import { auditOffset, ensureVerifierAccount, grantRoles, releaseMcpServers, spawnOperator, type OperatorProcess } from "../test/operator/harness.js";
import { approvedFleetManifest, describeWrites, progress as progressOf, rollout, writesSince } from "./fleet-runs.js";

const N = Number(process.env.BENCH_FLEET_SERVERS ?? 1000);
const QPS = (process.env.BENCH_FLEET_QPS ?? "50,1000").split(",").filter(Boolean).map(Number);
const TARGETS: Record<number, number> = { 50: 1.2, 1000: 1.3 };
const CONCURRENCY = 16;
const progress = progressOf("fleet-rollout");
const every = (k: number) => k % Math.max(1, Math.floor(N / 10)) === 0 || k === N;

/** The floor: one client, at QPS, creates each server's children by server-side apply. */
async function floor(ns: string, qps: number): Promise<number> {
  const admin = new KubeClient(adminConfig(), { qps: 500, burst: 500, userAgent: "fleet-setup" });
  const servers: McpServerObject[] = [];
  // The McpServers exist beforehand (untimed): children need a live owner, or the garbage collector takes them.
  await inParallel(N, 32, async (i) => {
    const { review: _review, ...spec } = (approvedFleetManifest(ns, i) as KubeObject & { spec: Record<string, unknown> }).spec;
    const manifest = { apiVersion: "toolfleet.dev/v1alpha1", kind: "McpServer", metadata: { name: `s${i}`, namespace: ns }, spec } as KubeObject;
    servers[i] = await ensureCreated<McpServerObject>(admin, McpServerType, manifest);
  });
  const writer = new KubeClient(adminConfig(), { qps, burst: qps * 2, userAgent: "fleet-floor" });
  const config = { registryPrefix: "dev.toolfleet.local", clusterDomain: "cluster.local", ingressNamespaces: ["toolfleet-system"], verifierServiceAccount: "toolfleet-system/toolfleet-operator", auth: {} };
  const started = performance.now();
  const ready = watchUntil(deployments(ns), N, isReadyDeployment, (k) => every(k) && progress(`floor: ${k}/${N} deployments ready`));
  await inParallel(N, CONCURRENCY, async (i) => {
    const server = servers[i]!;
    const children = desiredChildren(server, McpServerSpec.parse(server.spec), 1, config);
    const apply = (cs: typeof children) => Promise.all(cs.map((c) => writer.apply(c.type, c.object, { fieldManager: FIELD_MANAGER, force: true })));
    await apply(children.filter((c) => !runsPods(c.kind)));
    await apply(children.filter((c) => runsPods(c.kind)));
  });
  await ready;
  return (performance.now() - started) / 1000;
}

/** The operator as its own process: apply N approved McpServers and wait until every one is Ready. */
async function withOperator(ns: string, qps: number): Promise<number> {
  let operator: OperatorProcess | undefined;
  try {
    operator = await spawnOperator(`bench-rollout`, [`--namespaces=${ns}`, "--leader-elect=false", "--required-reviews=security", `--kube-api-qps=${qps}`, `--kube-api-burst=${qps * 2}`, `--concurrency=${CONCURRENCY}`, "--log-level=warn", "--user-agent=fleet-operator"]);
    const metricsUrl = `http://127.0.0.1:${operator.metricsPort}/readyz`;
    for (let i = 0; i < 300 && (await fetch(metricsUrl).then((r) => r.status, () => 0)) !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    return await rollout(ns, N, progress, "operator");
  } finally {
    operator?.child.kill("SIGTERM");
    await operator?.exited;
  }
}

async function atQps(qps: number): Promise<number> {
  progress(`${N} servers, ${qps} QPS for both the floor's client and the operator`);
  const floorNs = await testNamespace("bench-floor");
  const opNs = await testNamespace("bench-rollout");
  try {
    await grantRoles(opNs, ["toolfleet:security-reviewers"]);
    let offset = auditOffset();
    const floorSeconds = await floor(floorNs, qps);
    progress(`floor at ${qps} QPS: ${floorSeconds.toFixed(1)} s, ${describeWrites(writesSince(offset, floorNs, "fleet-floor"), N)}`);
    progress("removing the floor's namespace before the operator's run");
    await deleteNamespace(floorNs, { wait: true });
    offset = auditOffset();
    const opSeconds = await withOperator(opNs, qps);
    progress(`operator at ${qps} QPS: ${opSeconds.toFixed(1)} s, ${describeWrites(writesSince(offset, opNs, "fleet-operator"), N)}`);
    return opSeconds / floorSeconds;
  } finally {
    await releaseMcpServers(floorNs);
    await releaseMcpServers(opNs);
    progress("removing the namespaces, so that whatever runs next has a quiet control plane");
    await deleteNamespace(floorNs, { wait: true });
    await deleteNamespace(opNs, { wait: true });
  }
}

async function main(): Promise<void> {
  await clusterUp();
  // As an install has it: the operator verifies each server's tools as this account.
  await ensureVerifierAccount();
  const figures: string[] = [];
  for (const qps of QPS) figures.push(`${(await atQps(qps)).toFixed(2)}x floor at ${qps} QPS`);
  const targets = QPS.map((q) => `<= ${TARGETS[q] ?? 1.3}x at ${q} QPS`).join(", ");
  process.stdout.write(`bench fleet-rollout: ${figures.join(", ")} (target ${targets})\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`[fleet-rollout] failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
