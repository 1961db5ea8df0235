/**
 * The kit's usage buffer on a real directory: what was appended survives a reopen, an
 * acknowledged segment is gone, a write torn by a crash costs only its own line, the bound
 * refuses (and counts) what does not fit; and a record names its caller for the registry.
 */
import { describe, expect, it } from "@jest/globals";
import { appendFileSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FinishedCall } from "../call.js";
import { DiskBuffer } from "../disk-buffer.js";
import { usageRecordOf } from "../record.js";

const call = (over: Partial<FinishedCall> = {}): FinishedCall => ({
  server: "dev.toolfleet.data-platform/presto",
  tool: "run_query",
  caller: { kind: "user", subject: "ann", groups: ["ads-eng"] },
  outcome: "ok",
  durationMs: 12.5,
  minutesSaved: 5,
  ...over,
});
const records = (n: number) => Array.from({ length: n }, () => usageRecordOf(call()));
const dir = () => mkdtempSync(join(tmpdir(), "usage-buffer-"));

describe("the usage disk buffer", () => {
  it("keeps what was appended across a reopen, in segments, and forgets what is acknowledged", async () => {
    const d = dir();
    const { buffer } = DiskBuffer.open({ dir: d, maxRecords: 100, segmentRecords: 2 });
    const written = records(5);
    await Promise.all(written.map((r) => buffer.append([r]))); // concurrent appends share writes
    expect(buffer.size).toBe(5);
    buffer.close();
    const { buffer: again, report } = DiskBuffer.open({ dir: d, maxRecords: 100, segmentRecords: 2 });
    expect(report).toEqual({ recovered: 5, torn: 0 });
    const seen: string[] = [];
    for (let s = await again.oldest(); s; s = await again.oldest()) {
      seen.push(...s.records.map((r) => r.id));
      again.ack(s.seq);
    }
    expect(seen).toEqual(written.map((r) => r.id));
    expect(again.size).toBe(0);
    expect(readdirSync(d)).toEqual([]);
  });

  it("skips a line torn by a crash, and keeps the others", async () => {
    const d = dir();
    const { buffer } = DiskBuffer.open({ dir: d, maxRecords: 100, segmentRecords: 10 });
    await buffer.append(records(3));
    buffer.close();
    const [segment] = readdirSync(d);
    appendFileSync(join(d, segment!), '{"id":"6f1c0b5e-');
    const { buffer: again, report } = DiskBuffer.open({ dir: d, maxRecords: 100, segmentRecords: 10 });
    expect(report).toEqual({ recovered: 3, torn: 1 });
    expect((await again.oldest())!.records).toHaveLength(3);
  });

  it("refuses what does not fit under the bound, and says how many", async () => {
    const { buffer } = DiskBuffer.open({ dir: dir(), maxRecords: 3, segmentRecords: 2 });
    expect(await buffer.append(records(2))).toEqual({ dropped: 0 });
    expect(await buffer.append(records(3))).toEqual({ dropped: 2 });
    expect(buffer.size).toBe(3);
    const first = (await buffer.oldest())!;
    buffer.ack(first.seq);
    expect(await buffer.append(records(1))).toEqual({ dropped: 0 });
    expect(buffer.size).toBe(2);
  });
});

describe("usage records", () => {
  it("name the caller for the registry, which alone hashes it: a person by subject, a service account by namespace/name", () => {
    expect(usageRecordOf(call())).toMatchObject({ caller: "ann", callerKind: "person" });
    expect(usageRecordOf(call({ caller: { kind: "serviceAccount", namespace: "agents", name: "bot" } }))).toMatchObject({ caller: "agents/bot", callerKind: "service" });
  });

  it("save the declared minutes only when the call succeeded", () => {
    expect(usageRecordOf(call()).minutesSaved).toBe(5);
    for (const outcome of ["error", "denied", "declined"] as const) expect(usageRecordOf(call({ outcome })).minutesSaved).toBe(0);
    expect(usageRecordOf(call({ caller: { kind: "serviceAccount", namespace: "agents", name: "bot" } })).callerKind).toBe("service");
  });
});
