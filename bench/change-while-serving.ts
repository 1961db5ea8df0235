/**
 * Change while serving: BENCH_CHANGE_SERVERS (20) approved, published remote McpServers; each
 * owner then changes reviewed fields (the version, and the tools' descriptions, which the
 * running server already answers with), the change waits for review, and the three reviewers
 * approve it. A consumer polls the registry's list every 50 ms from before the first change until
 * every server is listed at its new version; per server, each poll interval it was missing from
 * the list counts. The figure is the sum over the servers, in seconds.
 *   node dist/bench/change-while-serving.js    BENCH_CHANGE_SERVERS=20
 * stdout: `bench change-while-serving-unpublished-seconds: … (target 0)`; stderr: progress.
 */
import { McpServerType } from "../mcpserver/type.js";
import { REVIEWERS, review, type Area } from "../test/operator/harness.js";
import { inParallel } from "../test/operator/fleet.js";
import { createServers, operatorQuiet, remoteSpec, startReviewPlane, waitForServers, type ReviewPlane } from "./review-fleet.js";

const N = Number(process.env.BENCH_CHANGE_SERVERS ?? 20);
const POLL_MS = 50;
const AREAS = Object.keys(REVIEWERS) as Area[];
const progress = (msg: string) => process.stderr.write(`[change-while-serving] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function approveAll(plane: ReviewPlane, names: string[], hashes: Map<string, string>): Promise<void> {
  await inParallel(names.length, 8, async (i) => {
    for (const area of AREAS) await review(plane.ns, names[i]!, area, hashes.get(names[i]!)!);
  });
}

async function main(): Promise<void> {
  const plane = await startReviewPlane("bench-change", progress);
  try {
    const names = Array.from({ length: N }, (_, i) => `s${i}`);
    progress(`creating and approving ${N} remote servers (version 1.0.0)`);
    await createServers(plane, names);
    const v1 = await waitForServers(plane, names, "awaiting review", (s) => s.status?.specHash !== undefined, progress);
    await approveAll(plane, names, new Map(names.map((n) => [n, v1.get(n)!.status!.specHash!])));
    const deadline = Date.now() + 120_000;
    for (;;) {
      const listed = await plane.listed();
      if (names.every((n) => listed.get(n) === "1.0.0")) break;
      if (Date.now() > deadline) throw new Error(`only ${listed.size}/${N} servers listed 120 s after their approval`);
      await sleep(250);
    }
    progress(`all ${N} listed at 1.0.0; polling the registry every ${POLL_MS} ms from now on`);

    const missingMs = new Map(names.map((n) => [n, 0]));
    let atV2 = 0;
    /** Which step the missing time fell in, for the details on stderr. */
    let step: "pending" | "approved" = "pending";
    const missingByStep = { pending: 0, approved: 0 };
    let polling = true;
    let polls = 0;
    const poller = (async () => {
      let last = performance.now();
      while (polling) {
        // A failed poll is a consumer who got nothing: every server counts as missing for it.
        const listed = await plane.listed().catch((err: unknown) => (progress(`a poll failed: ${String(err)}`), new Map<string, string>()));
        const now = performance.now();
        for (const n of names) {
          if (listed.has(n)) continue;
          missingMs.set(n, missingMs.get(n)! + (now - last));
          missingByStep[step] += now - last;
        }
        atV2 = names.filter((n) => listed.get(n) === "1.1.0").length;
        last = now;
        polls++;
        await sleep(POLL_MS);
      }
    })();
    try {
      progress("each owner changes the version and the tools' descriptions");
      await inParallel(N, 8, (i) => {
        const name = names[i]!;
        const spec = remoteSpec(plane.url(name), 2);
        return plane.owner.request("PATCH", plane.owner.path(McpServerType, plane.ns, name), { spec: { version: spec.version, tools: spec.tools } }, undefined, "application/merge-patch+json");
      });
      const pending = await waitForServers(plane, names, "with the change pending review", (s) => s.status?.pendingChange !== undefined && s.status.specHash !== v1.get(s.metadata.name)!.status!.specHash, progress);
      // The change has waited for review while v1 was served; let the operator settle on it before the reviewers act.
      await operatorQuiet(plane, 2_000);
      progress("the three reviewers approve each change");
      step = "approved";
      await approveAll(plane, names, new Map(names.map((n) => [n, pending.get(n)!.status!.specHash!])));
      const until = Date.now() + 120_000;
      let shown = -1;
      while (atV2 < N) {
        if (atV2 !== shown) progress(`${atV2}/${N} listed at 1.1.0`);
        shown = atV2;
        if (Date.now() > until) throw new Error(`only ${atV2}/${N} servers listed at 1.1.0 120 s after the approvals`);
        await sleep(100);
      }
      progress(`${N}/${N} listed at 1.1.0; polling 2 s more`);
      await sleep(2_000);
    } finally {
      polling = false;
      await poller;
    }
    const missing = [...missingMs].filter(([, ms]) => ms > 0);
    const seconds = [...missingMs.values()].reduce((a, b) => a + b, 0) / 1000;
    progress(`${polls} polls; ${missing.length}/${N} servers were missing at some poll${missing.length ? `: ${missing.map(([n, ms]) => `${n} ${(ms / 1000).toFixed(2)} s`).join(", ")}` : ""}`);
    progress(`missing while the changes waited for review: ${(missingByStep.pending / 1000).toFixed(2)} s; from the first approval on: ${(missingByStep.approved / 1000).toFixed(2)} s`);
    process.stdout.write(`bench change-while-serving-unpublished-seconds: ${seconds.toFixed(2)} (target 0)\n`);
  } finally {
    await plane.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`[change-while-serving] failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
