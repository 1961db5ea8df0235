import { describe, expect, it } from "@jest/globals";
import type { VerificationResult } from "../tool-verification.js";
import { FIRST_RETRY_MS, retryAfterMs, UNREACHABLE_RETRY_MS, Verifications } from "../verifications.js";

const verified: VerificationResult = { outcome: "Verified", message: "tools/list matches the 1 declared tools" };
const unreachable: VerificationResult = { outcome: "Unreachable", message: "cannot reach http://s.example (ENOTFOUND)" };

/** A verification that settles when the test says so. */
function deferred() {
  let settle!: (r: VerificationResult) => void;
  let fail!: (e: Error) => void;
  const promise = new Promise<VerificationResult>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  return { promise, settle, fail };
}

const tick = () => new Promise((r) => setImmediate(r));


function pool(concurrency = 4, intervalMs = 60_000) {
  const settled: string[] = [];
  const v = new Verifications({ intervalMs, concurrency, settled: (k) => settled.push(k) });
  return { v, settled };
}

describe("tool verifications beside the work queue", () => {
  it("has no answer while the first check runs, queues the key when it settles, then answers at once", async () => {
    const { v, settled } = pool();
    const d = deferred();
    let calls = 0;
    const verify = () => (calls++, d.promise);
    expect(v.get("ns/a", "uid|url|h1", verify)).toBeUndefined();
    expect(v.get("ns/a", "uid|url|h1", verify)).toBeUndefined(); // asked again meanwhile: not started twice
    expect(calls).toBe(1);
    d.settle(verified);
    await tick();
    expect(settled).toEqual(["ns/a"]);
    expect(v.get("ns/a", "uid|url|h1", verify)).toEqual(verified);
    expect(calls).toBe(1);
    expect(v.inFlight).toBe(0);
  });

  it("runs at most `concurrency` checks at once; the others wait their turn", async () => {
    const { v, settled } = pool(2);
    const checks = Array.from({ length: 5 }, () => deferred());
    let running = 0;
    let most = 0;
    for (let i = 0; i < 5; i++) {
      v.get(`ns/s${i}`, "f", async () => {
        running++;
        most = Math.max(most, running);
        try {
          return await checks[i]!.promise;
        } finally {
          running--;
        }
      });
    }
    await tick();
    expect(running).toBe(2);
    for (const c of checks) {
      c.settle(unreachable);
      await tick();
      await tick();
    }
    expect(most).toBe(2);
    expect(settled.sort()).toEqual(["ns/s0", "ns/s1", "ns/s2", "ns/s3", "ns/s4"]);
  });

  it("keeps answering with the last result while a due re-check runs", async () => {
    const { v, settled } = pool(4, 1); // every result is due again after 1 ms
    v.get("ns/a", "f", async () => verified);
    await tick();
    await new Promise((r) => setTimeout(r, 5));
    const d = deferred();
    expect(v.get("ns/a", "f", () => d.promise)).toEqual(verified);
    d.settle(unreachable);
    await tick();
    expect(settled).toEqual(["ns/a", "ns/a"]);
    expect(v.get("ns/a", "f", () => deferred().promise)?.outcome).toBe("Unreachable");
  });

  it("never answers for a different fingerprint (another URL or spec) with an old result", async () => {
    const { v } = pool();
    v.get("ns/a", "uid|url|h1", async () => verified);
    await tick();
    expect(v.get("ns/a", "uid|url|h2", () => deferred().promise)).toBeUndefined();
  });

  it("drops a check in flight for a key it was told to forget", async () => {
    const { v, settled } = pool();
    const d = deferred();
    v.get("ns/a", "f", () => d.promise);
    v.forget("ns/a");
    d.settle(verified);
    await tick();
    expect(settled).toEqual([]);
    expect(v.get("ns/a", "f", () => deferred().promise)).toBeUndefined();
  });

  it("turns a check that throws into a HandshakeFailed result naming the error", async () => {
    const { v, settled } = pool();
    const d = deferred();
    v.get("ns/a", "f", () => d.promise);
    d.fail(new Error("socket hang up"));
    await tick();
    expect(settled).toEqual(["ns/a"]);
    expect(v.get("ns/a", "f", () => deferred().promise)).toEqual({ outcome: "HandshakeFailed", message: "verification failed: socket hang up" });
  });

  it("tries an unreachable server again after 2 s, then twice as long each time up to 30 s, and a verified one after the interval", async () => {
    expect([1, 2, 3, 4, 5, 6, 50].map((misses) => retryAfterMs(unreachable, 300_000, misses))).toEqual([2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect(retryAfterMs(unreachable, 5_000, 4)).toBe(5_000); // never later than the interval
    expect(retryAfterMs(verified, 300_000, 3)).toBe(300_000);
    expect([FIRST_RETRY_MS, UNREACHABLE_RETRY_MS]).toEqual([2_000, 30_000]);

    // The pool counts misses in a row for the same fingerprint, and starts over once verified.
    let now = 0;
    const v = new Verifications({ intervalMs: 300_000, concurrency: 4, settled: () => {}, now: () => now });
    const answers = [unreachable, unreachable, unreachable, verified, unreachable];
    for (const [i, answer] of answers.entries()) {
      const d = deferred();
      let started = false;
      expect(v.get("ns/a", "uid|url|h1", () => ((started = true), d.promise))).toEqual(i === 0 ? undefined : answers[i - 1]);
      expect(started).toBe(true);
      d.settle(answer);
      await tick();
      const retry = v.retryAfterMs("ns/a")!;
      expect(retry).toBe([2_000, 4_000, 8_000, 300_000, 2_000][i]);
      // Not due a moment before its retry; due at it.
      now += retry - 1;
      v.get("ns/a", "uid|url|h1", () => Promise.reject(new Error("checked too early")));
      await tick();
      expect(v.retryAfterMs("ns/a")).toBe(retry);
      now += 1;
    }
    // Another fingerprint (a new spec) starts its own count.
    const d = deferred();
    v.get("ns/a", "uid|url|h2", () => d.promise);
    d.settle(unreachable);
    await tick();
    expect(v.retryAfterMs("ns/a")).toBe(2_000);
    expect(v.retryAfterMs("ns/unknown")).toBeUndefined();
  });

  it("refuses a concurrency below 1", () => {
    expect(() => new Verifications({ intervalMs: 1000, concurrency: 0, settled: () => {} })).toThrow("verification concurrency must be >= 1, got 0");
  });
});
