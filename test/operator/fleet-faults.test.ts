/**
 * Faults at fleet scale, with the operator as a real process: killed (SIGKILL) in the middle of
 * rolling out 200 servers and started again, everything converges with nothing duplicated or
 * orphaned. (The API server restarted under a running operator is apiserver-restart.disruptive.test.ts,
 * which runs alone: other suites share that API server.)
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { CHILD_TYPES } from "../../operator/children.js";
import { McpServerType, type McpServerObject } from "../../mcpserver/type.js";
import { MANAGED_SELECTOR } from "../../mcpserver/names.js";
import { controllerOf, CoreTypes, KubeClient, type KubeObject } from "../../runtime/index.js";
import { deleteNamespace, testNamespace, userConfig } from "../../local/cluster/harness.js";
import { approvedFleetServer } from "./fleet.js";
import { adminClient, grantRoles, REVIEWERS, spawnOperator, waitFor, type OperatorProcess, releaseMcpServers } from "./harness.js";

const N = 200;
let ns: string;
let operator: OperatorProcess | undefined;

const start = (name: string) =>
  spawnOperator(name, [`--namespaces=${ns}`, `--leader-election-id=op-${ns}`, "--required-reviews=security", "--kube-api-qps=100", "--kube-api-burst=200", "--concurrency=8"]);

async function stopOperator(signal: NodeJS.Signals): Promise<void> {
  if (!operator) return;
  operator.child.kill(signal);
  await operator.exited;
  operator = undefined;
}

const list = <T extends KubeObject>(type: typeof CHILD_TYPES[number] | typeof McpServerType, labelSelector?: string) =>
  adminClient().list<T>(type, { namespace: ns, labelSelector }).then((l) => l.items);

beforeAll(async () => {
  ns = await testNamespace("op-fleet");
  await grantRoles(ns, [REVIEWERS.security.groups[0]]); // the reviewer may also create, for this test
}, 60_000);

afterAll(async () => {
  await stopOperator("SIGTERM");
  await releaseMcpServers(ns);
  await deleteNamespace(ns);
});

describe(`an operator killed in the middle of rolling out ${N} servers`, () => {
  it("converges after a restart, with no duplicates and no orphans", async () => {
    const reviewer = new KubeClient(userConfig(REVIEWERS.security.user, [...REVIEWERS.security.groups]), { qps: 200, burst: 200 });
    await Promise.all(Array.from({ length: N }, (_, i) => reviewer.create(McpServerType, approvedFleetServer(ns, i))));
    operator = await start("fleet-a");
    await waitFor("a rollout in progress", async () => {
      const n = (await list(CoreTypes.Deployment, MANAGED_SELECTOR)).length;
      return n >= 30 && n < N ? n : undefined;
    }, 60_000, 50);
    await stopOperator("SIGKILL"); // no clean hand-over: the next one waits for the lease to expire

    operator = await start("fleet-b");
    // Converged: every server's status is computed from its current generation and agrees with
    // its Deployment, and it is published exactly when its pods are ready. (Whether kwok keeps
    // every pod Ready is the fake node's business; the operator's is to tell the truth about it.)
    const converged = async () => {
      const [servers, deployments] = await Promise.all([
        list<McpServerObject>(McpServerType),
        list<KubeObject & { status?: { readyReplicas?: number } }>(CoreTypes.Deployment, MANAGED_SELECTOR),
      ]);
      const ready = new Map(deployments.map((d) => [d.metadata.name, d.status?.readyReplicas ?? 0]));
      const agreeing = servers.filter((s) => {
        const r = ready.get(s.metadata.name);
        return (
          r !== undefined &&
          s.status?.observedGeneration === s.metadata.generation &&
          s.status?.readyReplicas === r &&
          s.status?.registry?.published === r > 0
        );
      });
      return agreeing.length === N ? true : undefined;
    };
    await waitFor(`all ${N} converged`, converged, 240_000, 1000);

    const servers = await list<McpServerObject>(McpServerType);
    const uids = new Set(servers.map((s) => s.metadata.uid));
    for (const type of CHILD_TYPES) {
      const children = await list(type, MANAGED_SELECTOR);
      expect([type.kind, children.length]).toEqual([type.kind, N]);
      for (const c of children) expect(uids.has(controllerOf(c, McpServerType)?.uid)).toBe(true);
    }
    const replicaSets = await adminClient().list({ group: "apps", version: "v1", kind: "ReplicaSet", plural: "replicasets", namespaced: true }, { namespace: ns });
    expect(replicaSets.items).toHaveLength(N); // one rollout each: no spurious template changes
    const pods = await adminClient().list(CoreTypes.Pod, { namespace: ns });
    expect(pods.items).toHaveLength(N); // one pod per server (replicas: 1), none duplicated
  }, 420_000);
});
