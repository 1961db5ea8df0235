/**
 * Faults at fleet scale, with the operator as a real process: killed (SIGKILL) in the middle of
 * rolling out 200 servers and started again, everything converges with nothing duplicated or
 * orphaned; then the API server is restarted under it and it carries on without a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { McpServerSpec, type McpServerSpecInput } from "../../crds/index.js";
import { CHILD_TYPES } from "../../operator/children.js";
import { McpServerType, type McpServerObject } from "../../operator/mcpserver-type.js";
import { MANAGED_SELECTOR } from "../../operator/names.js";
import { specHash } from "../../operator/spec-hash.js";
import { controllerOf, CoreTypes, KubeClient, type KubeObject } from "../../operator/runtime/index.js";
import { deleteNamespace, restartComponent, testNamespace, userConfig } from "../cluster/harness.js";
import { adminClient, grantRoles, REVIEWERS, spawnOperator, waitFor, type OperatorProcess, releaseMcpServers } from "./harness.js";

const N = 200;
let ns: string;
let operator: OperatorProcess | undefined;

const specFor = (i: number): McpServerSpecInput => ({
  title: `Server ${i}`,
  description: "A fleet member",
  version: "1.0.0",
  owner: { team: "fleet", contact: "#fleet" },
  workload: { image: `registry.example.com/fleet/s${i}@sha256:${"a".repeat(64)}`, replicas: 1 },
  access: { allowedGroups: ["fleet"] },
  tools: [{ name: "ping", readOnly: true }],
});

/** The security reviewer creates each server already approved for its exact spec. */
function approvedServer(i: number): KubeObject {
  const spec = specFor(i);
  const hash = specHash(McpServerSpec.parse(spec));
  return {
    apiVersion: "toolfleet.dev/v1alpha1",
    kind: "McpServer",
    metadata: { name: `s${i}`, namespace: ns },
    spec: { ...spec, review: { security: { decision: "Approved", reviewer: REVIEWERS.security.user, specHash: hash } } },
  } as KubeObject;
}

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
    await Promise.all(Array.from({ length: N }, (_, i) => reviewer.create(McpServerType, approvedServer(i))));
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

  it("survives a restarted API server without a restart of its own", async () => {
    const pid = operator!.child.pid;
    await restartComponent("kube-apiserver");
    // A change made after the restart must still be seen through the operator's re-established watches.
    await adminClient().request(
      "PATCH",
      adminClient().path(McpServerType, ns, "s7"),
      { spec: { workload: { image: `registry.example.com/fleet/s7@sha256:${"b".repeat(64)}` } } },
      undefined,
      "application/merge-patch+json",
    );
    const s = await waitFor(
      "s7 unpublished after its image changed",
      async () => {
        const s = await adminClient().get<McpServerObject>(McpServerType, ns, "s7");
        return s?.status?.observedGeneration === s?.metadata.generation && s?.status?.registry?.published === false ? s : undefined;
      },
      60_000,
      200,
    );
    expect(s.status!.review!.stale).toEqual(["security"]);
    // Unpublishing is written first; scaling to 0 follows in the same reconcile.
    await waitFor(
      "s7 scaled to 0",
      async () => (await adminClient().get<KubeObject & { spec: { replicas: number } }>(CoreTypes.Deployment, ns, "s7"))?.spec.replicas === 0,
      30_000,
      200,
    );
    expect(operator!.child.exitCode).toBeNull();
    expect(operator!.child.pid).toBe(pid);
    const text = await operator!.metrics();
    expect(text).toMatch(/toolfleet_watch_restarts_total\{[^}]*\} [1-9]/);
  }, 180_000);
});
