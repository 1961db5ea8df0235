import { describe, expect, it } from "@jest/globals";
import { computeStatus, type StatusInputs } from "../status.js";
import { evaluateReview } from "../review-gate.js";
import { specHash } from "../spec-hash.js";
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
};
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
    });
    expect(s.phase).toBe("Published");
    expect(s.registry).toEqual({ published: true, name: "dev.toolfleet.local.ns/presto", publishedAt: "2026-11-26T10:00:00Z" });
    expect(s.conditions!.every((c) => c.observedGeneration === 4)).toBe(true);
  });

  it("keeps an unapproved server at AwaitingReview and unpublished", () => {
    const s = computeStatus({ ...base, verdict: pending, workload: { desiredReplicas: 0, readyReplicas: 0 } });
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
    const stale = computeStatus({ ...base, previous: first, verdict: { ...pending, reason: "ReviewStale", stale: ["security"], pending: [] }, workload: { desiredReplicas: 0, readyReplicas: 0 }, now: "2026-11-28T00:00:00Z" });
    expect(stale.phase).toBe("Unpublished");
    expect(stale.registry?.published).toBe(false);
    expect(stale.registry?.publishedAt).toBe("2026-11-26T10:00:00Z");
    expect(stale.conditions!.find((c) => c.type === "Published")!.lastTransitionTime).toBe("2026-11-28T00:00:00Z");
  });

  it("treats a remote server's reachability as Available", () => {
    const remote = { ...spec, workload: undefined, remote: { url: "https://x.example/mcp" } };
    const down = computeStatus({ ...base, spec: remote, workload: undefined, verification: { outcome: "Unreachable", message: "refused" } });
    expect(conditions(down)).toMatchObject({ Available: "False/Unreachable", ToolsVerified: "Unknown/NotAvailable", Published: "False/NotAvailable" });
    expect(down.phase).toBe("Degraded");
    expect(down.readyReplicas).toBeUndefined();
  });
});
