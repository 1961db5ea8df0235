/**
 * Fleet rollout: N approved workload McpServers from `apply` to all Ready, against the floor
 * of writing the same children (ServiceAccount, policy ConfigMap, Deployment, Service,
 * NetworkPolicy) directly with one client at the same QPS limit, to all Deployments Ready.
 * Both runs go through the same control plane (controller-manager, scheduler, kwok) one after
 * the other; the operator runs as its own process, as in production.
 *   node dist/bench/fleet-rollout.js            BENCH_FLEET_SERVERS=1000 BENCH_FLEET_QPS=50
 * stdout: `bench fleet-rollout: …x floor (target <= 1.5x)`; stderr: progress and seconds.
 */
import { McpServerSpec } from "../crds/index.js";
import { desiredChildren } from "../operator/children.js";
import { McpServerType, type McpServerObject } from "../mcpserver/type.js";
import { FIELD_MANAGER } from "../mcpserver/names.js";
import { KubeClient, type KubeObject } from "../runtime/index.js";
import { clusterUp } from "../local/cluster/cli.js";
import { adminConfig, deleteNamespace, testNamespace } from "../local/cluster/harness.js";
import { approvedFleetServer, deployments, fleetSpec, inParallel, isReadyDeployment, isReadyServer, readyServers, reviewerClient, watchUntil } from "../test/operator/fleet.js";
import { grantRoles, releaseMcpServers, spawnOperator, type OperatorProcess } from "../test/operator/harness.js";

const N = Number(process.env.BENCH_FLEET_SERVERS ?? 1000);
const QPS = Number(process.env.BENCH_FLEET_QPS ?? 50);
const CONCURRENCY = 16;
const progress = (msg: string) => process.stderr.write(`[fleet-rollout] ${msg}\n`);
const every = (k: number) => k % Math.max(1, Math.floor(N / 10)) === 0 || k === N;

/** The floor: one client, at QPS, server-side-applies each server's children. */
async function floor(ns: string): Promise<number> {
  const admin = new KubeClient(adminConfig(), { qps: 500, burst: 500 });
  const servers: McpServerObject[] = [];
  // The McpServers exist beforehand (untimed): children need a live owner, or the garbage collector takes them.
  await inParallel(N, 32, async (i) => {
    servers[i] = await admin.create<McpServerObject>(McpServerType, { apiVersion: "toolfleet.dev/v1alpha1", kind: "McpServer", metadata: { name: `s${i}`, namespace: ns }, spec: fleetSpec(i) } as KubeObject);
  });
  const writer = new KubeClient(adminConfig(), { qps: QPS, burst: QPS * 2, userAgent: "fleet-floor" });
  const config = { registryPrefix: "dev.toolfleet.local", clusterDomain: "cluster.local", ingressNamespaces: ["toolfleet-system"], verifierServiceAccount: "toolfleet-system/toolfleet-operator", auth: {} };
  const started = performance.now();
  const ready = watchUntil(deployments(ns), N, isReadyDeployment, (k) => every(k) && progress(`floor: ${k}/${N} deployments ready`));
  await inParallel(N, CONCURRENCY, async (i) => {
    const server = servers[i]!;
    for (const child of desiredChildren(server, McpServerSpec.parse(server.spec), 1, config)) {
      await writer.apply(child.type, child.object, { fieldManager: FIELD_MANAGER, force: true });
    }
  });
  await ready;
  return (performance.now() - started) / 1000;
}

/** The operator: apply N approved McpServers and wait until every one is Ready. */
async function withOperator(ns: string): Promise<number> {
  let operator: OperatorProcess | undefined;
  try {
    operator = await spawnOperator(`bench-rollout`, [`--namespaces=${ns}`, "--leader-elect=false", "--required-reviews=security", `--kube-api-qps=${QPS}`, `--kube-api-burst=${QPS * 2}`, `--concurrency=${CONCURRENCY}`, "--log-level=warn"]);
    const metricsUrl = `http://127.0.0.1:${operator.metricsPort}/readyz`;
    for (let i = 0; i < 300 && (await fetch(metricsUrl).then((r) => r.status, () => 0)) !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    const applier = reviewerClient(500);
    const started = performance.now();
    const ready = watchUntil(readyServers(ns), N, isReadyServer, (k) => every(k) && progress(`operator: ${k}/${N} servers Ready`));
    await inParallel(N, 32, (i) => applier.create(McpServerType, approvedFleetServer(ns, i)));
    await ready;
    return (performance.now() - started) / 1000;
  } finally {
    operator?.child.kill("SIGTERM");
    await operator?.exited;
  }
}

async function main(): Promise<void> {
  await clusterUp();
  progress(`${N} servers, ${QPS} QPS for both the floor's client and the operator`);
  const floorNs = await testNamespace("bench-floor");
  const opNs = await testNamespace("bench-rollout");
  try {
    await grantRoles(opNs, ["toolfleet:security-reviewers"]);
    const floorSeconds = await floor(floorNs);
    progress(`floor: ${floorSeconds.toFixed(1)} s`);
    progress("removing the floor's namespace before the operator's run");
    await deleteNamespace(floorNs, { wait: true });
    const opSeconds = await withOperator(opNs);
    progress(`operator: ${opSeconds.toFixed(1)} s`);
    process.stdout.write(`bench fleet-rollout: ${(opSeconds / floorSeconds).toFixed(2)}x floor (target <= 1.5x)\n`);
  } finally {
    await releaseMcpServers(floorNs);
    await releaseMcpServers(opNs);
    progress("removing the namespaces, so that whatever runs next has a quiet control plane");
    await deleteNamespace(floorNs, { wait: true });
    await deleteNamespace(opNs, { wait: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`[fleet-rollout] failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
