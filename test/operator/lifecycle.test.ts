/**
 * An McpServer's life against the real control plane (controller-manager, scheduler, kwok):
 * the review gate deploying nothing until approved, approvals area by area, children with owner
 * references and Ready pods, an image change that waits for review while the approved revision
 * keeps serving, a resync that writes nothing, and a deletion that leaves nothing behind.
 */
import { afterAll, beforeAll, expect } from "@jest/globals";
import { stringify } from "yaml";
import { CHILDREN } from "../../operator/children.js";
import { FINALIZER } from "../../mcpserver/names.js";
import type { RunningOperator } from "../../operator/operator.js";
import { controllerOf, CoreTypes, type KubeObject, type ResourceType } from "../../runtime/index.js";
import { McpServerType } from "../../mcpserver/type.js";
import { deleteNamespace, kubectlAs, testNamespace } from "../../local/cluster/harness.js";
import { inNamespace, sample } from "../api/fixtures.js";
import { journey } from "../journey-steps.js";
import { adminClient, auditOffset, auditSince, conditionsOf, getServer, grantRoles, review, startTestOperator, waitFor, releaseMcpServers } from "./harness.js";

const owner = { user: "olga", groups: ["data-platform"] };
const name = "presto";
let ns: string;
let op: RunningOperator;
let userAgent: string;

interface Deployment extends KubeObject {
  spec: { replicas: number; template: { spec: { containers: Array<{ image: string }> } } };
  status?: { readyReplicas?: number };
}
const deployment = () => adminClient().get<Deployment>(CoreTypes.Deployment, ns, name);

/**
 * Waits until the operator has seen its own last writes come back (its caches hold the server's
 * and every child's current resourceVersion) and has nothing queued or running.
 */
async function settled(): Promise<void> {
  const current = async (type: ResourceType, objectName: string) =>
    op.controller.cache(type).get(ns, objectName)?.metadata.resourceVersion === (await adminClient().get(type, ns, objectName))?.metadata.resourceVersion;
  await waitFor("the operator's caches up to date and its work queue idle", async () => {
    if (op.controller.queue.len() !== 0 || op.controller.queue.inFlight() !== 0) return false;
    if (op.controller.primary.get(ns, name)?.metadata.resourceVersion !== (await getServer(ns, name))?.metadata.resourceVersion) return false;
    for (const kind of CHILDREN) if (!(await current(kind.type, kind.name(name)))) return false;
    return op.controller.queue.len() === 0 && op.controller.queue.inFlight() === 0; // still, after those reads
  });
}

beforeAll(async () => {
  ns = await testNamespace("op-life");
  await grantRoles(ns);
  userAgent = `toolfleet-operator-test-${ns}`;
  op = await startTestOperator(ns, [], { userAgent });
  const created = await kubectlAs(owner.user, owner.groups, ["create", "-f", "-"], { input: stringify(inNamespace(sample("presto.yaml"), ns, name)) });
  expect(created.stdout).toContain("created");
}, 60_000);

afterAll(async () => {
  await op?.stop();
  await releaseMcpServers(ns);
  await deleteNamespace(ns);
});

journey("an McpServer's life under the reconciler, against the real control plane", (step) => {
  let specHash = "";

  step("deploys nothing of an unapproved server, keeps it unpublished, and publishes it once all three areas approve, one by one", async () => {
    const pendingServer = await waitFor("the first status", async () => {
      const s = await getServer(ns, name);
      return s?.status?.phase === "PendingReview" && s.status.specHash ? s : undefined;
    });
    specHash = pendingServer.status!.specHash!;
    // Children carry owner references and the registry reads McpServers: no finalizer guards anything.
    expect(pendingServer.metadata.finalizers ?? []).not.toContain(FINALIZER);
    expect(pendingServer.status!.registry).toMatchObject({ published: false, name: `dev.toolfleet.local.${ns}/${name}` });
    expect(pendingServer.status!.served).toBeUndefined();
    expect(pendingServer.status!.approvedRevision).toBeUndefined();
    expect(await deployment()).toBeUndefined();

    for (const area of ["security", "legal"] as const) {
      await review(ns, name, area, specHash);
      const s = await waitFor(`${area}'s approval to count`, async () => {
        const s = await getServer(ns, name);
        return s?.status?.review?.pending?.includes(area) === false ? s : undefined;
      });
      expect(s.status!.registry!.published).toBe(false);
      expect(s.status!.phase).toBe("PendingReview");
      expect(await deployment()).toBeUndefined();
    }

    await review(ns, name, "genai", specHash);
    const published = await waitFor(
      "Published=True with its pods Ready",
      async () => {
        const s = await getServer(ns, name);
        return s?.status?.registry?.published && s.status.readyReplicas === 2 ? s : undefined;
      },
      60_000,
    );
    expect(conditionsOf(published)).toEqual({
      Reviewed: "True/Approved",
      Available: "True/MinimumReplicasReady",
      // kwok's pods do not run: no answer (Unreachable) or, when a real node's kube-proxy routes
      // the cluster IP to a pod address that does not exist, no handshake. Said so, not made up.
      ToolsVerified: expect.stringMatching(/^Unknown\/(Unreachable|HandshakeFailed)$/),
      Published: "True/Published",
      Ready: "True/Ready",
      ChangePendingReview: "False/NoPendingChange",
      ChildConflict: "False/NoConflict",
    });
    expect(published.status!.approvedRevision).toMatchObject({ revision: 1, specHash });
    expect(published.status!.served).toMatchObject({ revision: published.status!.approvedRevision!.name, specHash, narrowed: false });
    expect(published.status!.conditions!.every((c) => c.observedGeneration === published.metadata.generation)).toBe(true);
    expect(published.status!.url).toBe(`http://${name}.${ns}.svc.cluster.local:8080/mcp`);
    expect((await deployment())!.status!.readyReplicas).toBe(2);

    for (const kind of CHILDREN) {
      const child = await adminClient().get(kind.type, ns, kind.name(name));
      expect(child).toBeDefined();
      expect(controllerOf(child!, McpServerType)).toMatchObject({ name, uid: published.metadata.uid, controller: true, blockOwnerDeletion: true });
    }
  }, 120_000);

  step("a resync of unchanged servers writes nothing (client count, resource versions and the audit log agree)", async () => {
    await settled();
    const versions = async () => {
      const objs = [await getServer(ns, name), ...(await Promise.all(CHILDREN.map((k) => adminClient().get(k.type, ns, k.name(name)))))];
      return objs.map((o) => o?.metadata.resourceVersion);
    };
    const before = await versions();
    const offset = auditOffset();
    const writes = op.client.writes.count;
    op.controller.primary.resync();
    await settled();
    expect(op.client.writes.count - writes).toBe(0);
    expect(await versions()).toEqual(before);
    const ours = auditSince(offset).filter((e) => e.userAgent.startsWith(userAgent));
    expect(ours).toEqual([]);
  }, 60_000);

  step("changing the image leaves the approved revision running and published, and says what waits for review", async () => {
    const image = "registry.example.com/toolfleet/presto-mcp@sha256:" + "e".repeat(64);
    const patched = await kubectlAs(owner.user, owner.groups, ["patch", "mcpserver", name, "-n", ns, "--type=merge", "-p", JSON.stringify({ spec: { workload: { image } } })]);
    expect(patched.code).toBe(0);
    const s = await waitFor("ChangePendingReview=True", async () => {
      const s = await getServer(ns, name);
      return conditionsOf(s).ChangePendingReview === "True/ChangePendingReview" ? s : undefined;
    });
    expect(s.status!.phase).toBe("Published");
    expect(s.status!.registry!.published).toBe(true);
    expect(s.status!.review).toMatchObject({ approved: false, stale: ["security", "legal", "genai"] });
    expect(conditionsOf(s)).toMatchObject({ Reviewed: "False/ReviewStale", Published: "True/Published" });
    expect(s.status!.specHash).not.toBe(specHash);
    expect(s.status!.pendingChange!.paths).toEqual(["spec.workload.image"]);
    expect(s.status!.served!.spec.workload!.image).not.toBe(image);
    const d = (await deployment())!;
    expect(d.spec.replicas).toBe(2);
    expect(d.spec.template.spec.containers[0]!.image).not.toBe(image);
  }, 30_000);

  step("records an Event for transitions", async () => {
    const expected = ["Approved", "Published", "ReviewStale", "ChangePendingReview"];
    const reasons = async () => {
      const events = await adminClient().list<KubeObject & { reason: string; involvedObject: { name: string } }>(CoreTypes.Event, { namespace: ns });
      return events.items.filter((e) => e.involvedObject.name === name).map((e) => e.reason);
    };
    // Events are recorded beside the status write, not before it: fails if one never comes.
    await waitFor(`an Event for each of ${expected.join(", ")}`, async () => {
      const seen = await reasons();
      return expected.every((r) => seen.includes(r));
    });
  });

  step("deleting the McpServer removes every child (garbage collection through the owner references)", async () => {
    await adminClient().delete(McpServerType, ns, name);
    // Garbage collection is the controller manager's, shared with every suite running beside this one.
    await waitFor("the McpServer to be gone", async () => (await getServer(ns, name)) === undefined, 60_000);
    for (const kind of CHILDREN) {
      await waitFor(`${kind.type.kind} to be gone`, async () => (await adminClient().get(kind.type, ns, kind.name(name))) === undefined, 60_000);
    }
  }, 180_000);
});
