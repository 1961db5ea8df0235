/**
 * Two operator replicas (real processes) on one Lease: only the leader reconciles and writes;
 * killing it hands over to the standby within about 15 s; a clean stop releases the lease at
 * once.
 */
import { afterAll, beforeAll, expect } from "@jest/globals";
import { SYSTEM_NAMESPACE } from "../../crds/index.js";
import { McpServerType, type McpServerObject } from "../../mcpserver/type.js";
import { CoreTypes, type KubeObject } from "../../runtime/index.js";
import { deleteNamespace, testNamespace } from "../../local/cluster/harness.js";
import { journey } from "../journey-steps.js";
import { adminClient, metricValue, spawnOperator, waitFor, type OperatorProcess, releaseMcpServers } from "./harness.js";

let ns: string;
let lease: string;
const replicas: OperatorProcess[] = [];

const server = (name: string): KubeObject =>
  ({
    apiVersion: "toolfleet.dev/v1alpha1",
    kind: "McpServer",
    metadata: { name, namespace: ns },
    spec: {
      title: name,
      description: "Leader election probe",
      version: "1.0.0",
      owner: { team: "platform", contact: "#platform" },
      remote: { url: "http://127.0.0.1:9/mcp" },
      access: { allowedGroups: [] },
      tools: [{ name: "noop" }],
    },
  }) as KubeObject;

const start = async (identity: string) => {
  const p = await spawnOperator(identity, [`--namespaces=${ns}`, `--leader-election-id=${lease}`, "--verify-timeout=1s"]);
  replicas.push(p);
  await waitFor(`${identity} to serve /readyz`, async () => (await fetch(`http://127.0.0.1:${p.metricsPort}/readyz`)).status === 200, 30_000, 200);
  return p;
};
const leaderGauge = async (p: OperatorProcess) => metricValue(await p.metrics(), "toolfleet_leader");
const reconciles = async (p: OperatorProcess) => metricValue(await p.metrics(), "toolfleet_reconcile_total");
const writes = async (p: OperatorProcess) => metricValue(await p.metrics(), "toolfleet_api_writes");
interface LeaseSpec {
  holderIdentity?: string;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}
const leaseSpec = async () => (await adminClient().get<KubeObject & { spec?: LeaseSpec }>(CoreTypes.Lease, SYSTEM_NAMESPACE, lease))?.spec;
const holder = async () => (await leaseSpec())?.holderIdentity;
const statusOf = async (name: string) => (await adminClient().get<McpServerObject>(McpServerType, ns, name))?.status;

beforeAll(async () => {
  ns = await testNamespace("op-leader");
  lease = `op-${ns}`;
});

afterAll(async () => {
  for (const p of replicas) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
  await Promise.all(replicas.map((p) => p.exited));
  await releaseMcpServers(ns);
  await deleteNamespace(ns);
});

journey("two operator replicas: one leads, a killed leader is replaced, a clean stop hands over at once", (step) => {
  let a: OperatorProcess;
  let b: OperatorProcess;

  step("only the leader reconciles and writes", async () => {
    a = await start("replica-a");
    await waitFor("replica-a to lead", async () => (await leaderGauge(a)) === 1, 20_000, 200);
    b = await start("replica-b");
    await adminClient().create(McpServerType, server("first"));
    const phase = await waitFor("first's status", async () => (await statusOf("first"))?.phase);
    // The standby has seen the server and the leader's status write in its own cache: whatever
    // it would have done with them, it would have done by now.
    await waitFor("replica-b's cache to hold first's status", async () => metricValue(await b.metrics(), "toolfleet_mcpservers", `phase="${phase}"`) === 1, 20_000, 200);
    expect(await holder()).toBe("replica-a");
    expect(await leaderGauge(b)).toBe(0);
    expect(await reconciles(b)).toBe(0);
    expect(await writes(b)).toBe(0);
    expect(await reconciles(a)).toBeGreaterThan(0);
    expect(await writes(a)).toBeGreaterThan(0);
  }, 60_000);

  step("killing the leader hands over to the standby within about 15 s", async () => {
    a.child.kill("SIGKILL");
    await a.exited;
    // The dead leader's last renewal, as the API server recorded it.
    const lastRenew = Date.parse((await leaseSpec())?.renewTime ?? "");
    await adminClient().create(McpServerType, server("second"));
    await waitFor("replica-b to lead", async () => (await leaderGauge(b)) === 1, 40_000, 200);
    await waitFor("second's status, written by the new leader", async () => (await statusOf("second"))?.phase, 15_000, 200);
    const spec = await leaseSpec();
    expect(spec?.holderIdentity).toBe("replica-b");
    expect(spec?.leaseTransitions).toBeGreaterThanOrEqual(1);
    // The hand-over, read from the Lease's own times rather than this test's clock: the standby
    // takes the lease once it has expired (12 s) at its next try (every 2 s). The margin is for
    // a busy machine scheduling the standby late, not part of the election.
    const handOverMs = Date.parse(spec?.acquireTime ?? "") - lastRenew;
    expect(handOverMs).toBeGreaterThanOrEqual(12_000);
    expect(handOverMs).toBeLessThan(12_000 + 2_000 + 4_000);
    expect(await reconciles(b)).toBeGreaterThan(0);
  }, 60_000);

  step("a clean stop releases the lease so the next replica leads at once", async () => {
    b.child.kill("SIGTERM");
    expect(await b.exited).toBe(0);
    expect(await holder()).toBe("");
    const released = await leaseSpec();
    const lastRenew = Date.parse(released?.renewTime ?? "");
    const c = await start("replica-c");
    await waitFor("replica-c to lead", async () => (await leaderGauge(c)) === 1, 30_000, 100);
    // Read on the Lease's own clock: a held lease would have kept replica-c out until 12 s after
    // b's last renewal; a released one is taken before that.
    const taken = await leaseSpec();
    expect(taken?.holderIdentity).toContain("replica-c");
    expect(Date.parse(taken?.acquireTime ?? "") - lastRenew).toBeLessThan(12_000);
    c.child.kill("SIGTERM");
    await c.exited;
  }, 60_000);
});
