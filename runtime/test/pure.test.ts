import { describe, expect, it } from "@jest/globals";
import { conditionTransitions, setConditions } from "../conditions.js";
import { backoffDelay, PerKeyBackoff } from "../backoff.js";
import { isSubset } from "../subset.js";
import { TokenBucket } from "../rate-limiter.js";
import { controllerOf, splitKey } from "../objects.js";
import { finalizerState } from "../finalizer.js";

describe("conditions", () => {
  it("moves lastTransitionTime only when the status moves", () => {
    const first = setConditions(undefined, [{ type: "Ready", status: "False", reason: "NotYet", message: "" }], "2026-01-01T00:00:00Z");
    const sameStatus = setConditions(first, [{ type: "Ready", status: "False", reason: "Other", message: "m" }], "2026-01-02T00:00:00Z");
    expect(sameStatus[0]!.lastTransitionTime).toBe("2026-01-01T00:00:00Z");
    const moved = setConditions(sameStatus, [{ type: "Ready", status: "True", reason: "Ok", message: "" }], "2026-01-03T00:00:00Z");
    expect(moved[0]!.lastTransitionTime).toBe("2026-01-03T00:00:00Z");
    expect(conditionTransitions(first, sameStatus)).toHaveLength(1); // reason changed
    expect(conditionTransitions(sameStatus, sameStatus)).toHaveLength(0);
  });
});

describe("backoff", () => {
  it("doubles up to the cap, per key", () => {
    expect(backoffDelay(1, { initialMs: 100, maxMs: 1000 })).toBe(100);
    expect(backoffDelay(3, { initialMs: 100, maxMs: 1000 })).toBe(400);
    expect(backoffDelay(10, { initialMs: 100, maxMs: 1000 })).toBe(1000);
    const b = new PerKeyBackoff({ initialMs: 100, maxMs: 1000 });
    expect(b.next("a")).toBe(100);
    expect(b.next("a")).toBe(200);
    expect(b.next("b")).toBe(100);
    b.forget("a");
    expect(b.next("a")).toBe(100);
  });
});

describe("isSubset", () => {
  it("accepts defaults the server added and refuses any difference in what we set", () => {
    expect(isSubset({ a: 1, b: [{ x: 1 }] }, { a: 1, b: [{ x: 1, y: 2 }], c: 3 })).toBe(true);
    expect(isSubset({ a: 1 }, { a: 2 })).toBe(false);
    expect(isSubset({ b: [1, 2] }, { b: [1] })).toBe(false);
    expect(isSubset({ a: { b: "x" } }, {})).toBe(false);
  });
});

describe("TokenBucket", () => {
  it("lets a burst through at once, then paces to the QPS", async () => {
    const bucket = new TokenBucket(100, 5);
    const start = performance.now();
    await Promise.all(Array.from({ length: 15 }, () => bucket.take()));
    const elapsed = performance.now() - start;
    expect(elapsed).toBeGreaterThanOrEqual(80); // 10 beyond the burst at 100/s
    expect(elapsed).toBeLessThan(400);
  });
});

describe("objects", () => {
  it("maps a child to its controller owner and splits keys", () => {
    const owner = { group: "toolfleet.dev", version: "v1alpha1", kind: "McpServer", plural: "mcpservers", namespaced: true };
    const child = { metadata: { name: "c", namespace: "n", ownerReferences: [{ apiVersion: "toolfleet.dev/v1alpha1", kind: "McpServer", name: "p", uid: "u", controller: true }] } };
    expect(controllerOf(child, owner)?.name).toBe("p");
    expect(splitKey("n/p")).toEqual({ namespace: "n", name: "p" });
    expect(finalizerState({ metadata: { name: "x", finalizers: ["f"], deletionTimestamp: "t" } }, "f")).toBe("deleting-with-finalizer");
  });
});
