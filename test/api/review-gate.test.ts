import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { stringify } from "yaml";
import { DEFAULT_REVIEWER_GROUPS } from "../../crds/index.js";
import { EDITOR_ROLE, REVIEWER_ROLE } from "../../crds/rbac.js";
import { deleteNamespace, kubectl, kubectlAs, testNamespace } from "../../local/cluster/harness.js";
import { inNamespace, sample, toYaml } from "./fixtures.js";

// People of this test: the owning team edits its namespace; one reviewer per area.
const owner = { user: "olga", groups: ["data-platform"] };
const security = { user: "sam", groups: [DEFAULT_REVIEWER_GROUPS.security!] };
const legal = { user: "lee", groups: [DEFAULT_REVIEWER_GROUPS.legal!] };
const admin = { user: "root-admin", groups: ["system:masters"] };
const HASH = "a".repeat(64);

let ns: string;
const name = "presto";

const as = (who: { user: string; groups: string[] }, args: string[]) => kubectlAs(who.user, who.groups, args, { allowFailure: true });
const mergePatch = (who: { user: string; groups: string[] }, patch: object) =>
  as(who, ["patch", "mcpserver", name, "-n", ns, "--type=merge", "-p", JSON.stringify(patch)]);
const review = (reviewer: string, decision = "Approved") => ({ decision, reviewer, specHash: HASH, at: "2026-11-26T10:00:00Z" });
const stored = async () => JSON.parse((await kubectl(["get", "mcpserver", name, "-n", ns, "-o", "json"])).stdout) as {
  spec: { title: string; review?: Record<string, { decision: string; reviewer?: string }> };
};

beforeAll(async () => {
  ns = await testNamespace("review-gate");
  const bindings = [
    { kind: "RoleBinding", metadata: { name: "owners", namespace: ns }, roleRef: { kind: "ClusterRole", name: EDITOR_ROLE }, group: owner.groups[0] },
    ...[security, legal].map((r) => ({
      kind: "RoleBinding",
      metadata: { name: `reviewers-${r.user}`, namespace: ns },
      roleRef: { kind: "ClusterRole", name: REVIEWER_ROLE },
      group: r.groups[0],
    })),
  ].map(({ group, ...b }) => ({
    apiVersion: "rbac.authorization.k8s.io/v1",
    ...b,
    roleRef: { apiGroup: "rbac.authorization.k8s.io", ...b.roleRef },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: group }],
  }));
  await kubectl(["apply", "-f", "-"], { input: bindings.map((b) => stringify(b)).join("---\n") });
  const r = await kubectlAs(owner.user, owner.groups, ["create", "-f", "-"], { input: toYaml(inNamespace(sample("presto.yaml"), ns, name)) });
  expect(r.stdout).toContain("created");
});
afterAll(async () => deleteNamespace(ns));

describe("the review gate, enforced by the API server", () => {
  it("the owner cannot approve their own server", async () => {
    const r = await mergePatch(owner, { spec: { review: { security: review(owner.user) } } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("toolfleet-review-gate");
    expect(r.stderr).toContain("spec.review.security: only the area's reviewer group may change a review");
    expect((await stored()).spec.review).toBeUndefined();
  });

  it("the owner cannot create a server with reviews already filled in", async () => {
    const m = inNamespace(sample("spark.yaml"), ns, "spark-pre-approved");
    (m.spec as { review?: object }).review = { legal: review(owner.user), genai: review(owner.user) };
    const r = await kubectlAs(owner.user, owner.groups, ["create", "-f", "-"], { input: toYaml(m), allowFailure: true });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/spec\.review\.(legal|genai), spec\.review\.(genai|legal): only the area's reviewer group/);
    const left = await kubectl(["get", "mcpserver", "spark-pre-approved", "-n", ns, "--ignore-not-found", "-o", "name"]);
    expect(left.stdout.trim()).toBe("");
  });

  it("not even a cluster admin outside the reviewer group can approve", async () => {
    const r = await mergePatch(admin, { spec: { review: { genai: review(admin.user) } } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("spec.review.genai: only the area's reviewer group may change a review");
  });

  it("a security reviewer can write spec.review.security, in their own name only", async () => {
    const forged = await mergePatch(security, { spec: { review: { security: review("alice") } } });
    expect(forged.code).not.toBe(0);
    expect(forged.stderr).toContain("spec.review.security.reviewer must be sam");

    const ok = await mergePatch(security, { spec: { review: { security: review(security.user) } } });
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect((await stored()).spec.review?.security).toMatchObject({ decision: "Approved", reviewer: "sam" });
  });

  it("a security reviewer cannot touch spec.review.legal", async () => {
    const r = await mergePatch(security, { spec: { review: { legal: review(security.user) } } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("spec.review.legal: only the area's reviewer group may change a review, and sam is not in it");
    expect((await stored()).spec.review?.legal).toBeUndefined();
  });

  it("the legal reviewer can write spec.review.legal beside the security review", async () => {
    const r = await mergePatch(legal, { spec: { review: { legal: review(legal.user, "Rejected") } } });
    expect(r.code).toBe(0);
    const reviews = (await stored()).spec.review;
    expect(reviews?.legal).toMatchObject({ decision: "Rejected", reviewer: "lee" });
    expect(reviews?.security).toMatchObject({ decision: "Approved", reviewer: "sam" });
  });

  it("the owner cannot remove or alter a review", async () => {
    const removed = await as(owner, ["patch", "mcpserver", name, "-n", ns, "--type=json", "-p", JSON.stringify([{ op: "remove", path: "/spec/review/legal" }])]);
    expect(removed.code).not.toBe(0);
    expect(removed.stderr).toContain("spec.review.legal: only the area's reviewer group");
    const flipped = await mergePatch(owner, { spec: { review: { legal: { decision: "Approved" } } } });
    expect(flipped.code).not.toBe(0);
    expect((await stored()).spec.review?.legal?.decision).toBe("Rejected");
  });

  it("the owner can still edit the rest of the spec", async () => {
    const r = await mergePatch(owner, { spec: { title: "Presto (prod)", workload: { replicas: 3 } } });
    expect(r.code).toBe(0);
    expect((await stored()).spec.title).toBe("Presto (prod)");
  });
});
