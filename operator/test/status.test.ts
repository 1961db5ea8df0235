import { describe, expect, it } from "@jest/globals";
import { computeStatus, type StatusInputs } from "../status.js";
import { evaluateReview } from "../review-gate.js";
import { servedSpec, specHash } from "../spec-hash.js";
import { sampleServer } from "./fixtures.js";

const { spec } = sampleServer();
const hash = specHash(spec);
const gate = { requiredReviews: ["security"], allowTagImages: false };
const approved = evaluateReview({ ...spec, review: { security: { decision: "Approved", reviewer: "sam", specHash: hash } } }, hash, gate);
const pending = evaluateReview(spec, hash, gate);
const base: StatusInputs = {
  generation: 4,
  previous: undefined,
  spec,
  specHash: hash,
  verdict: approved,
  url: "http://presto.ns.svc.cluster.local:8080/mcp",
  registryName: "dev.toolfleet.local.ns/presto",
  workload: { desiredReplicas: 2, readyReplicas: 2 },
  now: "2026-11-26T10:00:00Z",
  approved: { name: "presto-abc", revision: 1, specHash: hash, spec: servedSpec(spec) },
  served: { revision: "presto-abc", specHash: hash, narrowed: false, spec: servedSpec(spec) },
};
const unserved = { approved: undefined, served: undefined };
const conditions = (s: ReturnType<typeof computeStatus>) => Object.fromEntries((s.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));
const allTools = spec.tools.map((t) => ({ name: t.name, declared: true, discovered: true }));

describe("status", () => {
  it("publishes an approved, available server whose tools cannot be checked (Unknown, not made up)", () => {
    const s = computeStatus({ ...base, verification: { outcome: "Unreachable", message: "cannot reach" } });
    expect(conditions(s)).toEqual({
      Reviewed: "True/Approved",
      Available: "True/MinimumReplicasReady",
      ToolsVerified: "Unknown/Unreachable",
      Published: "True/Published",
      Ready: "True/Ready",
      ChangePendingReview: "False/NoPendingChange",
      ChildConflict: "False/NoConflict",
    });
    expect(s.phase).toBe("Published");
    expect(s.served).toEqual({ revision: "presto-abc", specHash: hash, narrowed: false, spec: servedSpec(spec) });
    expect(s.approvedRevision).toEqual({ name: "presto-abc", revision: 1, specHash: hash });
    expect(s.registry).toEqual({ published: true, name: "dev.toolfleet.local.ns/presto", publishedAt: "2026-11-26T10:00:00Z" });
    expect(s.conditions!.every((c) => c.observedGeneration === 4)).toBe(true);
  });

  it("keeps an unapproved server at AwaitingReview and unpublished", () => {
    const s = computeStatus({ ...base, ...unserved, verdict: pending, workload: { desiredReplicas: 0, readyReplicas: 0 } });
    expect(conditions(s)).toMatchObject({ Reviewed: "False/ReviewPending", Available: "False/AwaitingReview", Published: "False/NotReviewed" });
    expect(s.phase).toBe("PendingReview");
    expect(s.review).toEqual({ approved: false, pending: ["security"] });
  });

  it("unpublishes on a tools mismatch and records what was found", () => {
    const tools = [...allTools, { name: "drop_table", declared: false, discovered: true }];
    const s = computeStatus({ ...base, verification: { outcome: "Mismatch", message: "listed but not declared: drop_table", tools, serverInfo: { name: "p", version: "1", protocolVersion: "2025-06-18" } } });
    expect(conditions(s)).toMatchObject({ ToolsVerified: "False/ToolsMismatch", Published: "False/ToolsMismatch" });
    expect(s.phase).toBe("Degraded");
    expect(s.tools).toContainEqual({ name: "drop_table", declared: false, discovered: true });
    expect(s.serverInfo?.protocolVersion).toBe("2025-06-18");
  });

  it("moves lastTransitionTime only on a status change, and says Unpublished after a published spec goes stale", () => {
    const first = computeStatus({ ...base, verification: { outcome: "Verified", message: "ok", tools: allTools } });
    const again = computeStatus({ ...base, previous: first, verification: { outcome: "Verified", message: "ok", tools: allTools }, now: "2026-11-27T00:00:00Z" });
    expect(again).toEqual(first);
    const change = [{ path: "spec.workload.image", old: '"a"', new: '"b"' }];
    const stale = computeStatus({ ...base, previous: first, verdict: { ...pending, reason: "ReviewStale", stale: ["security"], pending: [] }, pending: change, now: "2026-11-28T00:00:00Z" });
    // A change awaiting review: the approved revision keeps serving, and the status says what waits.
    expect(stale.phase).toBe("Published");
    expect(conditions(stale)).toMatchObject({ Reviewed: "False/ReviewStale", Published: "True/Published", ChangePendingReview: "True/ChangePendingReview" });
    expect(stale.pendingChange).toEqual({ specHash: hash, paths: ["spec.workload.image"], changes: change });
    expect(stale.registry?.publishedAt).toBe("2026-11-26T10:00:00Z");
    const rejected = computeStatus({ ...base, ...unserved, previous: first, verdict: { ...pending, reason: "Rejected", rejected: ["security"], pending: [] }, rejected: true, workload: { desiredReplicas: 0, readyReplicas: 0 }, now: "2026-11-28T00:00:00Z" });
    expect(rejected.phase).toBe("Rejected");
    expect(conditions(rejected)).toMatchObject({ Available: "False/Rejected", Published: "False/Rejected" });
    const never = computeStatus({ ...base, ...unserved, previous: first, verdict: pending, workload: { desiredReplicas: 0, readyReplicas: 0 }, now: "2026-11-28T00:00:00Z" });
    expect(never.phase).toBe("Unpublished");
    const stale2 = rejected;
    expect(stale2.registry?.published).toBe(false);
    expect(stale2.registry?.publishedAt).toBe("2026-11-26T10:00:00Z");
    expect(stale2.served).toBeUndefined();
    expect(stale2.conditions!.find((c) => c.type === "Published")!.lastTransitionTime).toBe("2026-11-28T00:00:00Z");
  });

  it("unpublishes on a child conflict and on tool definitions that changed after they were pinned", () => {
    const verified = { outcome: "Verified" as const, message: "ok", tools: allTools };
    const c = computeStatus({ ...base, verification: verified, conflicts: ["NetworkPolicy ns/presto"] });
    expect(conditions(c)).toMatchObject({ ChildConflict: "True/ChildConflict", Published: "False/ChildConflict" });
    expect(c.conditions!.find((x) => x.type === "ChildConflict")!.message).toContain("NetworkPolicy ns/presto");
    expect(c.phase).toBe("Degraded");
    const pin = { specHash: hash, digest: "a".repeat(64), pinnedAt: "2026-11-26T10:00:00Z", changed: ["run_query (definition changed)"] };
    const d = computeStatus({ ...base, verification: verified, toolPin: pin });
    expect(conditions(d)).toMatchObject({ ToolsVerified: "False/ToolDefinitionsChanged", Published: "False/ToolDefinitionsChanged" });
    expect(d.toolDefinitions).toEqual(pin);
  });

  it("treats a remote server's reachability as Available", () => {
    const remote = { ...spec, workload: undefined, remote: { url: "https://x.example/mcp" } };
    const down = computeStatus({ ...base, spec: remote, workload: undefined, verification: { outcome: "Unreachable", message: "refused" } });
    expect(conditions(down)).toMatchObject({ Available: "False/Unreachable", ToolsVerified: "Unknown/NotAvailable", Published: "False/NotAvailable" });
    expect(down.phase).toBe("Degraded");
    expect(down.readyReplicas).toBeUndefined();
  });
});
