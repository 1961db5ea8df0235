import { describe, expect, it } from "@jest/globals";
import { WorkQueue } from "../work-queue.js";
import { For, TerminalError } from "../controller.js";
import type { KubeClient } from "../kube-client.js";
import { waitFor } from "../../local/wait-for.js";

describe("WorkQueue", () => {
  it("holds a key once however often it is added", async () => {
    const q = new WorkQueue();
    q.add("a");
    q.add("b");
    q.add("a");
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe("a");
    expect(await q.get()).toBe("b");
  });

  it("never hands out a key being processed, and re-queues it if dirtied meanwhile", async () => {
    const q = new WorkQueue();
    q.add("a");
    const k = await q.get();
    q.add("a"); // dirtied while processing
    expect(q.len()).toBe(0);
    q.done(k!);
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe("a");
    q.done("a");
    expect(q.len()).toBe(0);
  });

  it("wakes a waiting worker and returns undefined after shutdown", async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.add("x");
    expect(await waiting).toBe("x");
    const after = q.get();
    q.shutDown();
    expect(await after).toBeUndefined();
  });

  it("keeps the earliest delayed add", async () => {
    const q = new WorkQueue();
    q.addAfter("a", 2_000);
    q.addAfter("a", 20);
    q.addAfter("a", 5_000);
    expect(q.delayedCount()).toBe(1);
    await new Promise((r) => setTimeout(r, 60));
    expect(q.len()).toBe(1);
    q.shutDown();
  });
});

describe("Controller workers", () => {
  const until = (what: string, check: () => boolean) => waitFor(what, check, 5_000, 5);

  it("run one reconcile per key at a time, bounded overall, and back off on errors", async () => {
    // A client is never used: the controller is driven through its queue directly.
    const client = {} as KubeClient;
    const type = { group: "example.com", version: "v1", kind: "Thing", plural: "things", namespaced: true };
    let running = 0;
    let maxRunning = 0;
    const perKey = new Map<string, number>();
    const calls: string[] = [];
    let failOnce = true;
    // The first reconcile of ns/a holds until the test lets it go, so the re-add below lands
    // while it runs: the queue must run it exactly once more, afterwards.
    let releaseA: () => void = () => undefined;
    const aHeld = new Promise<void>((r) => (releaseA = r));
    const controller = For(client, type).build(
      async ({ key }) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        perKey.set(key, (perKey.get(key) ?? 0) + 1);
        expect(perKey.get(key)).toBe(1);
        calls.push(key);
        if (key === "ns/a" && calls.filter((k) => k === "ns/a").length === 1) await aHeld;
        else await new Promise((r) => setTimeout(r, 20));
        perKey.set(key, 0);
        running--;
        if (key === "ns/flaky" && failOnce) {
          failOnce = false;
          throw new Error("boom");
        }
        if (key === "ns/terminal") throw new TerminalError("cannot");
      },
      { name: "test", concurrency: 2, backoff: { initialMs: 30, maxMs: 100 } },
    );
    controller.runWorkers();
    for (const k of ["ns/a", "ns/b", "ns/c", "ns/flaky", "ns/terminal"]) controller.queue.add(k);
    await until("ns/a to be running", () => calls.includes("ns/a"));
    controller.queue.add("ns/a"); // dirtied while it runs
    controller.queue.add("ns/a"); // and again: still one more run, not two
    releaseA();
    await until("every key to settle", () => calls.filter((k) => k === "ns/flaky").length === 2 && calls.filter((k) => k === "ns/a").length === 2 && running === 0);
    expect(maxRunning).toBeLessThanOrEqual(2);
    expect(calls.filter((k) => k === "ns/terminal")).toHaveLength(1);
    for (const k of ["ns/b", "ns/c"]) expect(calls.filter((c) => c === k)).toHaveLength(1);
    // Nothing further is queued: the re-adds made exactly one more run of ns/a.
    await controller.stop();
    expect(calls.filter((k) => k === "ns/a")).toHaveLength(2);
  });
});
