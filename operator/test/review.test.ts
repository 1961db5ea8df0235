import { describe, expect, it } from "@jest/globals";
import { McpServerSpec } from "../../crds/index.js";
import { evaluateReview } from "../review-gate.js";
import { specHash } from "../spec-hash.js";
import { sampleServer } from "./fixtures.js";

const gate = { requiredReviews: ["security", "legal", "genai"], allowTagImages: false };
const approve = (hash: string, reviewer = "r") => ({ decision: "Approved" as const, reviewer, specHash: hash });

describe("specHash", () => {
  const { spec } = sampleServer();
  it("ignores order, spelled-out defaults, reviews, replicas and resources, and changes with every other field", () => {
    const h = specHash(spec);
    expect(h).toMatch(/^[a-f0-9]{64}$/);
    const reordered = McpServerSpec.parse({ ...spec, tools: [...spec.tools].reverse(), access: { ...spec.access, allowedGroups: [...spec.access.allowedGroups].reverse() } });
    expect(specHash(reordered)).toBe(h);
    expect(specHash({ ...spec, review: { security: approve(h) } })).toBe(h);
    expect(specHash({ ...spec, workload: { ...spec.workload!, replicas: 9 } })).toBe(h);
    expect(specHash({ ...spec, workload: { ...spec.workload!, resources: { limits: { cpu: "4" } } } })).toBe(h);
    const w = spec.workload!;
    const changed: Array<[string, McpServerSpec]> = [
      ["title", { ...spec, title: "Other title" }],
      ["description", { ...spec, description: "Other" }],
      ["version", { ...spec, version: "9.9.9" }],
      ["owner", { ...spec, owner: { ...spec.owner, contact: "#elsewhere" } }],
      ["env value", { ...spec, workload: { ...w, env: [{ name: "NODE_OPTIONS", value: "--require /tmp/x.js" }, ...(w.env ?? [])] } }],
      ["env reference", { ...spec, workload: { ...w, env: [{ name: "PRESTO_URL", valueFrom: { secretKeyRef: { name: "other", key: "url" } } }] } }],
      ["env order", { ...spec, workload: { ...w, env: [...(w.env ?? [])].reverse() } }],
      ["port", { ...spec, workload: { ...w, port: 9090 } }],
      ["path", { ...spec, workload: { ...w, path: "/other" } }],
      ["tool description", { ...spec, tools: spec.tools.map((t, i) => (i === 0 ? { ...t, description: "changed" } : t)) }],
      ["tool minutesSaved", { ...spec, tools: spec.tools.map((t, i) => (i === 0 ? { ...t, minutesSaved: 30 } : t)) }],
      ["remote url", { ...spec, workload: undefined, remote: { url: "https://x.example/mcp" } }],
    ];
    for (const [what, s] of changed) expect([what, specHash(s)]).not.toEqual([what, h]);
    expect(specHash({ ...spec, workload: { ...spec.workload!, image: spec.workload!.image.replace(/5f2c/, "6f2c") } })).not.toBe(h);
    expect(specHash({ ...spec, tools: spec.tools.slice(1) })).not.toBe(h);
    expect(specHash({ ...spec, access: { ...spec.access, allowedGroups: ["x"] } })).not.toBe(h);
  });
});

describe("the review gate", () => {
  const { spec } = sampleServer();
  const h = specHash(spec);

  it("is pending until every required area approves this hash", () => {
    const v = evaluateReview({ ...spec, review: { security: approve(h) } }, h, gate);
    expect(v).toMatchObject({ approved: false, reason: "ReviewPending", pending: ["legal", "genai"] });
    const all = evaluateReview({ ...spec, review: { security: approve(h), legal: approve(h), genai: approve(h) } }, h, gate);
    expect(all).toMatchObject({ approved: true, reason: "Approved", pending: [], stale: [], rejected: [] });
  });

  it("counts an approval for another hash as stale", () => {
    const v = evaluateReview({ ...spec, review: { security: approve("b".repeat(64)), legal: approve(h), genai: approve(h) } }, h, gate);
    expect(v).toMatchObject({ approved: false, reason: "ReviewStale", stale: ["security"] });
  });

  it("holds a rejection for this hash, and lets it go stale when the spec changes", () => {
    const rejected = { decision: "Rejected" as const, reviewer: "lee", specHash: h, comment: "PII" };
    const v = evaluateReview({ ...spec, review: { security: approve(h), legal: rejected, genai: approve(h) } }, h, gate);
    expect(v).toMatchObject({ approved: false, reason: "Rejected", rejected: ["legal"] });
    expect(v.message).toContain("lee: PII");
    const after = evaluateReview({ ...spec, review: { legal: rejected } }, "c".repeat(64), gate);
    expect(after.rejected).toEqual([]);
    expect(after.stale).toEqual(["legal"]);
  });

  it("never approves a tag-only image unless tags are allowed", () => {
    const tagged = { ...spec, workload: { ...spec.workload!, image: "registry.example.com/toolfleet/presto-mcp:1.4.0" } };
    const th = specHash(tagged);
    const review = { security: approve(th), legal: approve(th), genai: approve(th) };
    expect(evaluateReview({ ...tagged, review }, th, gate)).toMatchObject({ approved: false, reason: "ImageNotPinned" });
    expect(evaluateReview({ ...tagged, review }, th, { ...gate, allowTagImages: true })).toMatchObject({ approved: true });
  });
});
