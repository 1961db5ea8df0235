/**
 * The API server restarted under a running operator: the operator (a real process) carries on
 * without a restart of its own, re-establishes its watches and acts on a change made afterwards.
 *
 * Restarting the API server refuses every other client for a few seconds, so this suite runs
 * alone, after all the others (`make test` runs jest's disruptive phase second; jest.config.js).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { McpServerType, type McpServerObject } from "../../mcpserver/type.js";
import { CoreTypes, KubeClient, type KubeObject } from "../../runtime/index.js";
import { deleteNamespace, restartComponent, testNamespace, userConfig } from "../../local/cluster/harness.js";
import { approvedFleetServer } from "./fleet.js";
import { adminClient, grantRoles, releaseMcpServers, REVIEWERS, spawnOperator, waitFor, type OperatorProcess } from "./harness.js";

const N = 20;
let ns: string;
let operator: OperatorProcess | undefined;

beforeAll(async () => {
  ns = await testNamespace("op-restart");
  await grantRoles(ns, [REVIEWERS.security.groups[0]]); // the reviewer may also create, for this test
  const reviewer = new KubeClient(userConfig(REVIEWERS.security.user, [...REVIEWERS.security.groups]), { qps: 100, burst: 100 });
  await Promise.all(Array.from({ length: N }, (_, i) => reviewer.create(McpServerType, approvedFleetServer(ns, i))));
  operator = await spawnOperator("restart", [`--namespaces=${ns}`, `--leader-election-id=op-${ns}`, "--required-reviews=security"]);
}, 60_000);

afterAll(async () => {
  if (operator) {
    operator.child.kill("SIGTERM");
    await operator.exited;
  }
  await releaseMcpServers(ns);
  await deleteNamespace(ns);
});

const server = (name: string) => adminClient().get<McpServerObject>(McpServerType, ns, name);

describe("an API server restarted under a running operator", () => {
  it("is ridden out: watches come back and a later change is acted on, with no operator restart", async () => {
    await waitFor("s7 published", async () => (await server("s7"))?.status?.registry?.published === true, 120_000, 200);
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
      "s7's image change seen as waiting for review",
      async () => {
        const s = await server("s7");
        const pending = s?.status?.conditions?.find((c) => c.type === "ChangePendingReview");
        return s?.status?.observedGeneration === s?.metadata.generation && pending?.status === "True" ? s : undefined;
      },
      60_000,
      200,
    );
    // The approved revision keeps serving while the change waits: published, 1 replica, v1's image.
    expect(s.status!.pendingChange!.paths).toContain("spec.workload.image");
    expect(s.status!.registry!.published).toBe(true);
    const d = await adminClient().get<KubeObject & { spec: { replicas: number; template: { spec: { containers: Array<{ image: string }> } } } }>(CoreTypes.Deployment, ns, "s7");
    expect(d?.spec.replicas).toBe(1);
    expect(d?.spec.template.spec.containers[0]?.image).not.toContain("b".repeat(64));
    // The other servers are untouched by it.
    expect((await adminClient().get<KubeObject & { spec: { replicas: number } }>(CoreTypes.Deployment, ns, "s8"))?.spec.replicas).toBe(1);
    expect(operator!.child.exitCode).toBeNull();
    expect(operator!.child.pid).toBe(pid);
    expect(await operator!.metrics()).toMatch(/toolfleet_watch_restarts_total\{[^}]*\} [1-9]/);
  }, 240_000);
});
