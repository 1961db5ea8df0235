/**
 * The reconcile decision as a table: for each situation (never approved, approved, a change
 * awaiting review, a narrowing, a rejection, a conflict, drift), which revision serves, how many
 * replicas run, and which children are written, replaced or deleted.
 */
import { describe, expect, it } from "@jest/globals";
import type { McpServerSpec } from "../../crds/index.js";
import { CHILDREN, desiredChildren, type ChildrenConfig, type SlimChild } from "../children.js";
import { decide, type Observation } from "../decide.js";
import { evaluateReview } from "../review-gate.js";
import { revisionObject, type ControllerRevision } from "../revisions.js";
import { servedSpec, specHash } from "../spec-hash.js";
import { APPLIED_HASH_ANNOTATION } from "../../mcpserver/names.js";
import { sampleServer } from "./fixtures.js";

const gate = { requiredReviews: ["security"], allowTagImages: false };
const children: ChildrenConfig = { registryPrefix: "dev.toolfleet.local", clusterDomain: "cluster.local", ingressNamespaces: ["toolfleet-system"], verifierServiceAccount: "toolfleet-system/toolfleet-operator", auth: {} };
const { object, spec: v1 } = sampleServer();
const h1 = specHash(v1);
const approvedBy = (s: McpServerSpec, decision: "Approved" | "Rejected" = "Approved", hash = specHash(s)): McpServerSpec => ({ ...s, review: { security: { decision, reviewer: "sam", specHash: hash } } });
const rev = (s: McpServerSpec, n: number): ControllerRevision => {
  const r = revisionObject(object, n, specHash(s), servedSpec(s));
  r.metadata.uid = `rev-${n}`;
  return r;
};
const image2 = v1.workload!.image.replace(/5f2c/, "6f2c");
const v2: McpServerSpec = { ...v1, workload: { ...v1.workload!, image: image2 } };

/** Live children exactly as the operator last wrote them for `s` at `replicas`. */
function liveOf(s: McpServerSpec, replicas: number, tweak: (kind: string, c: SlimChild) => SlimChild = (_k, c) => c): Observation["live"] {
  const objs = new Map(
    desiredChildren(object, servedSpec(s), replicas, children).map((c) => [
      c.type.kind,
      tweak(c.type.kind, { metadata: { ...c.object.metadata, uid: `uid-${c.type.kind}`, annotations: { [APPLIED_HASH_ANNOTATION]: c.appliedHash } }, viewHash: c.viewHash }),
    ]),
  );
  return (kind) => objs.get(kind.type.kind);
}
const none: Observation["live"] = () => undefined;
const deploymentSpec = (o: unknown) => (o as { spec: { replicas: number; template: { spec: { containers: Array<{ image: string }> } } } }).spec;

function observe(spec: McpServerSpec, revisions: ControllerRevision[], live: Observation["live"] = none): Observation {
  const hash = specHash(spec);
  return { object, spec, specHash: hash, verdict: evaluateReview(spec, hash, gate), revisions, live, writtenView: () => undefined, children };
}

describe("decide", () => {
  it("never approved: nothing recorded, nothing served, nothing deployed", () => {
    const p = decide(observe(v1, []));
    expect(p).toMatchObject({ rejected: false, replicas: 0, writes: [], deletes: [], conflicts: [] });
    expect(p.served).toBeUndefined();
    expect(p.record).toBeUndefined();
  });

  it("approved for the first time: records revision 1, serves it, creates every child at the spec's replicas", () => {
    const p = decide(observe(approvedBy(v1), []));
    expect(p.record).toMatchObject({ revision: 1, specHash: h1, existing: false, name: `presto-${h1.slice(0, 10)}` });
    expect(p.served).toMatchObject({ specHash: h1, narrowed: false });
    expect(p.replicas).toBe(2);
    expect(p.writes.map((w) => [w.child.type.kind, w.action])).toEqual(CHILDREN.map((k) => [k.type.kind, "create"]));
  });

  it("approved and unchanged: writes nothing", () => {
    const p = decide(observe(approvedBy(v1), [rev(v1, 1)], liveOf(v1, 2)));
    expect(p.record).toBeUndefined();
    expect(p.writes).toEqual([]);
  });

  it("a change awaiting review: the approved revision keeps running at its replicas, the changed paths are listed", () => {
    const p = decide(observe(approvedBy(v2, "Approved", h1), [rev(v1, 1)], liveOf(v1, 2)));
    expect(p.served).toMatchObject({ specHash: h1, narrowed: false });
    expect(p.served!.spec.workload!.image).toBe(v1.workload!.image);
    expect(p.replicas).toBe(2);
    expect(p.writes).toEqual([]);
    expect(p.pending).toEqual([{ path: "spec.workload.image", old: JSON.stringify(v1.workload!.image), new: JSON.stringify(image2) }]);
  });

  it("the change approved: records revision 2 and rolls it out by replacing the Deployment, never scaling to 0", () => {
    const p = decide(observe(approvedBy(v2), [rev(v1, 1)], liveOf(v1, 2)));
    expect(p.record).toMatchObject({ revision: 2, specHash: specHash(v2) });
    expect(p.replicas).toBe(2);
    const d = p.writes.find((w) => w.child.type.kind === "Deployment")!;
    expect(d.action).toBe("replace");
    expect(deploymentSpec(d.child.object).replicas).toBe(2);
  });

  it("a narrowing applies at once; a widening in the same edit waits", () => {
    const narrowed: McpServerSpec = { ...v1, access: { ...v1.access, allowedGroups: ["data-platform", "ads-eng", "newcomers"] } };
    const p = decide(observe(approvedBy(narrowed, "Approved", h1), [rev(v1, 1)], liveOf(v1, 2)));
    expect(p.served!.narrowed).toBe(true);
    expect(p.served!.spec.access.allowedGroups).toEqual(["ads-eng", "data-platform"]);
    expect(p.pending!.map((c) => c.path)).toEqual(["spec.access.allowedGroups"]);
    // The policy ConfigMap and the pods' policy hash change: the narrowing reaches the running server.
    expect(p.writes.map((w) => w.child.type.kind).sort()).toEqual(["ConfigMap", "Deployment"]);
  });

  it("a tool made sensitive, removed, or given narrower groups is narrowed; nothing is widened", () => {
    const tools = v1.tools.filter((t) => t.name !== "explain_query").map((t) => (t.name === "run_query" ? { ...t, sensitive: true, readOnly: true } : t.name === "list_tables" ? { ...t, allowedGroups: ["finance"] } : t.name === "cancel_query" ? { ...t, allowedGroups: ["data-platform", "finance"] } : t));
    const p = decide(observe({ ...v1, tools }, [rev(v1, 1)]));
    const served = new Map(p.served!.spec.tools.map((t) => [t.name, t]));
    expect(served.has("explain_query")).toBe(false);
    expect(served.get("run_query")).toMatchObject({ sensitive: true });
    expect(served.get("list_tables")!.allowedGroups).toEqual(["finance"]);
    expect(served.get("cancel_query")!.allowedGroups).toEqual(["data-platform"]);
  });

  it("a rejection of the current spec scales the approved revision to 0 and serves nothing", () => {
    const p = decide(observe(approvedBy(v2, "Rejected"), [rev(v1, 1)], liveOf(v1, 2)));
    expect(p.rejected).toBe(true);
    expect(p.served).toBeUndefined();
    expect(p.replicas).toBe(0);
    const d = p.writes.find((w) => w.child.type.kind === "Deployment")!;
    expect(deploymentSpec(d.child.object).replicas).toBe(0);
    expect(deploymentSpec(d.child.object).template.spec.containers[0]!.image).toBe(v1.workload!.image);
  });

  it("an object of someone else's in the way of a child's name: a conflict, and nothing is written", () => {
    const live = (kind: (typeof CHILDREN)[number]) => (kind.type.kind === "NetworkPolicy" ? { metadata: { name: "presto", namespace: "data-platform", uid: "foreign" } } : undefined);
    const p = decide(observe(approvedBy(v1), [rev(v1, 1)], live));
    expect(p.conflicts).toEqual(["NetworkPolicy data-platform/presto"]);
    expect(p.writes).toEqual([]);
  });

  it("a child changed by someone else (its live view differs) is replaced", () => {
    for (const kind of ["Deployment", "ConfigMap", "NetworkPolicy", "Service", "ServiceAccount"]) {
      const p = decide(observe(approvedBy(v1), [rev(v1, 1)], liveOf(v1, 2, (k, c) => (k === kind ? { ...c, viewHash: "tampered" } : c))));
      expect(p.writes.map((w) => [w.child.type.kind, w.action, w.reason])).toEqual([[kind, "replace", "drifted"]]);
    }
  });

  it("a child deleted by someone else is created again", () => {
    const full = liveOf(v1, 2);
    const p = decide(observe(approvedBy(v1), [rev(v1, 1)], (kind, name) => (kind.type.kind === "Service" ? undefined : full(kind, name))));
    expect(p.writes.map((w) => [w.child.type.kind, w.action])).toEqual([["Service", "create"]]);
  });

  it("a server that now registers a URL deletes only the children it controls", () => {
    const remote: McpServerSpec = { ...v1, workload: undefined, remote: { url: "https://x.example/mcp" } };
    const full = liveOf(v1, 2, (k, c) => (k === "Service" ? { ...c, metadata: { ...c.metadata, ownerReferences: [] } } : c));
    const p = decide(observe(approvedBy(remote), [rev(v1, 1)], full));
    expect(p.deletes.map((d) => d.kind.type.kind).sort()).toEqual(["ConfigMap", "Deployment", "NetworkPolicy", "ServiceAccount"]);
  });

  it("keeps the ten newest revisions", () => {
    const revisions = Array.from({ length: 10 }, (_, i) => rev({ ...v1, version: `1.0.${i}` }, i + 1));
    const p = decide(observe(approvedBy(v1), revisions));
    expect(p.record).toMatchObject({ revision: 11 });
    expect(p.prune.map((r) => r.revision)).toEqual([1]);
  });
});
