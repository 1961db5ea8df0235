/**
 * Approval to published: 100 remote McpServers (a real MCP server on 127.0.0.1, so that
 * verification passes) wait for review with two of the three required areas approved; then the
 * genai reviewer approves each one, one after the other every BENCH_APPROVAL_PACE_MS. Per server,
 * the time from the approving write's response until a consumer polling the registry's list
 * (every BENCH_APPROVAL_POLL_MS, time of the answer) sees it; the figure is p50 and p99.
 * The operator runs as its own process, the registry in-process.
 *   node dist/bench/approval-to-published.js   BENCH_APPROVAL_SERVERS=100 BENCH_APPROVAL_PACE_MS=100
 * stdout: `bench approval-to-published: p50 … ms, p99 … ms (target p99 <= 1000 ms)`; stderr: progress.
 */
import { review } from "../test/operator/harness.js";
import { inParallel } from "../test/operator/fleet.js";
import { createServers, operatorQuiet, startReviewPlane, waitForServers } from "./review-fleet.js";

const N = Number(process.env.BENCH_APPROVAL_SERVERS ?? 100);
const PACE_MS = Number(process.env.BENCH_APPROVAL_PACE_MS ?? 100);
const POLL_MS = Number(process.env.BENCH_APPROVAL_POLL_MS ?? 10);
const progress = (msg: string) => process.stderr.write(`[approval-to-published] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function main(): Promise<void> {
  const plane = await startReviewPlane("bench-approval", progress);
  try {
    const names = Array.from({ length: N }, (_, i) => `s${i}`);
    progress(`creating ${N} remote servers`);
    await createServers(plane, names);
    const byName = await waitForServers(plane, names, "awaiting review", (s) => s.status?.phase === "PendingReview" && s.status.specHash !== undefined, progress);
    const hash = (name: string) => byName.get(name)!.status!.specHash!;
    progress("security and legal approve every server (untimed)");
    await inParallel(N, 8, async (i) => {
      await review(plane.ns, names[i]!, "security", hash(names[i]!));
      await review(plane.ns, names[i]!, "legal", hash(names[i]!));
    });
    await operatorQuiet(plane, 2_000);
    if ((await plane.listed()).size !== 0) throw new Error("the registry lists a server before its last review");

    // The consumer's poller: the first answer that lists each server.
    const seenAt = new Map<string, number>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const listed = await plane.listed().catch((err: unknown) => (progress(`a poll failed: ${String(err)}`), new Map<string, string>()));
        const at = performance.now();
        for (const name of listed.keys()) if (!seenAt.has(name)) seenAt.set(name, at);
        await sleep(POLL_MS);
      }
    })();
    const approvedAt = new Map<string, number>();
    try {
      progress(`genai approves each server, one every ${PACE_MS} ms (timed)`);
      for (const name of names) {
        await review(plane.ns, name, "genai", hash(name));
        approvedAt.set(name, performance.now());
        await sleep(PACE_MS);
      }
      const deadline = Date.now() + 120_000;
      while (seenAt.size < N) {
        if (Date.now() > deadline) throw new Error(`only ${seenAt.size}/${N} servers listed 120 s after their approval`);
        await sleep(100);
      }
    } finally {
      polling = false;
      await poller;
    }
    // A poll may answer between the write's commit and its response: that counts as 0.
    const ms = names.map((n) => Math.max(0, seenAt.get(n)! - approvedAt.get(n)!)).sort((a, b) => a - b);
    progress(`${N} servers: min ${ms[0]!.toFixed(0)} ms, p50 ${pct(ms, 50).toFixed(0)} ms, p90 ${pct(ms, 90).toFixed(0)} ms, p99 ${pct(ms, 99).toFixed(0)} ms, max ${ms[N - 1]!.toFixed(0)} ms`);
    process.stdout.write(`bench approval-to-published: p50 ${pct(ms, 50).toFixed(0)} ms, p99 ${pct(ms, 99).toFixed(0)} ms (target p99 <= 1000 ms)\n`);
  } finally {
    await plane.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`[approval-to-published] failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
