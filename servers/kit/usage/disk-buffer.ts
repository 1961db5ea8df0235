/**
 * The kit's bounded, durable buffer of usage records not yet acknowledged by the registry:
 * append-only segment files of JSON lines in one directory. Appends are group-committed (the
 * records that arrive while one write+fsync runs go together in the next), a full segment is
 * sealed, and the registry's acknowledgement of a segment deletes its file. Records survive a
 * kill of the process once their append has resolved; past `maxRecords` new records are
 * refused and counted, never silently lost.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { UsageRecord } from "../../../crds/usage.js";

export interface Segment {
  seq: number;
  records: UsageRecord[];
}

export interface DiskBufferOptions {
  dir: string;
  /** Records held at most, across all segments. */
  maxRecords: number;
  /** Records per segment: a segment is what one delivery sends. */
  segmentRecords: number;
}

export interface OpenReport {
  /** Records found on disk from an earlier run. */
  recovered: number;
  /** Lines that did not parse (a write torn by a crash before its fsync). */
  torn: number;
}

const SEGMENT = /^(\d{12})\.jsonl$/;
const name = (seq: number) => `${String(seq).padStart(12, "0")}.jsonl`;

export class DiskBuffer {
  private readonly sealed: Array<{ seq: number; count: number }> = [];
  private active: { seq: number; fd: number; count: number } | undefined;
  private nextSeq = 1;
  private held = 0;
  private pending: string[] = [];
  private writing: Promise<void> | undefined;

  private constructor(private readonly options: DiskBufferOptions) {}

  /** Opens the directory; segments left by an earlier run are sealed and delivered first. */
  static open(options: DiskBufferOptions): { buffer: DiskBuffer; report: OpenReport } {
    mkdirSync(options.dir, { recursive: true });
    const buffer = new DiskBuffer(options);
    const report: OpenReport = { recovered: 0, torn: 0 };
    const seqs = readdirSync(options.dir)
      .map((f) => SEGMENT.exec(f)?.[1])
      .filter((s): s is string => s !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    for (const seq of seqs) {
      const { records, torn } = buffer.readSegment(seq);
      report.torn += torn;
      if (records.length === 0) {
        rmSync(join(options.dir, name(seq)), { force: true });
        continue;
      }
      buffer.sealed.push({ seq, count: records.length });
      buffer.held += records.length;
      report.recovered += records.length;
    }
    buffer.nextSeq = (seqs.at(-1) ?? 0) + 1;
    return { buffer, report };
  }

  /** Records held on disk (or being written), not yet acknowledged. */
  get size(): number {
    return this.held;
  }

  /**
   * Appends what fits under the bound; resolves once it is on disk, with how many were refused
   * because the buffer was full.
   */
  async append(records: readonly UsageRecord[]): Promise<{ dropped: number }> {
    const room = Math.max(0, this.options.maxRecords - this.held);
    const taken = records.slice(0, room);
    this.held += taken.length;
    for (const r of taken) this.pending.push(`${JSON.stringify(r)}\n`);
    if (taken.length > 0) await this.flush();
    return { dropped: records.length - taken.length };
  }

  /** Writes everything pending; concurrent callers share one write and one fsync. */
  private async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    this.writing = Promise.resolve().then(() => this.writeLines(lines));
    try {
      await this.writing;
    } finally {
      this.writing = undefined;
    }
  }

  private writeLines(lines: string[]): void {
    let i = 0;
    while (i < lines.length) {
      const active = this.activeSegment();
      const n = Math.min(lines.length - i, this.options.segmentRecords - active.count);
      writeSync(active.fd, lines.slice(i, i + n).join(""));
      fsyncSync(active.fd);
      active.count += n;
      i += n;
      if (active.count >= this.options.segmentRecords) this.sealActive();
    }
  }

  private activeSegment(): { seq: number; fd: number; count: number } {
    if (!this.active) {
      const seq = this.nextSeq++;
      this.active = { seq, fd: openSync(join(this.options.dir, name(seq)), "a"), count: 0 };
    }
    return this.active;
  }

  private sealActive(): void {
    const a = this.active;
    if (!a) return;
    closeSync(a.fd);
    this.active = undefined;
    if (a.count > 0) this.sealed.push({ seq: a.seq, count: a.count });
    else rmSync(join(this.options.dir, name(a.seq)), { force: true });
  }

  /** Whether a full segment waits, so delivery need not wait for its next tick. */
  get hasSealed(): boolean {
    return this.sealed.length > 0;
  }

  /**
   * The oldest unacknowledged segment, sealing the active one when nothing older waits;
   * undefined when the buffer is empty.
   */
  async oldest(): Promise<Segment | undefined> {
    await this.flush();
    while (this.writing) await this.writing;
    if (this.sealed.length === 0) this.sealActive();
    const first = this.sealed[0];
    if (!first) return undefined;
    return { seq: first.seq, records: this.readSegment(first.seq).records };
  }

  /** The registry has the segment's records: its file goes. */
  ack(seq: number): void {
    const i = this.sealed.findIndex((s) => s.seq === seq);
    if (i < 0) return;
    const [s] = this.sealed.splice(i, 1);
    rmSync(join(this.options.dir, name(seq)), { force: true });
    this.held -= s!.count;
  }

  close(): void {
    if (this.active) {
      closeSync(this.active.fd);
      if (this.active.count > 0) this.sealed.push({ seq: this.active.seq, count: this.active.count });
      this.active = undefined;
    }
  }

  private readSegment(seq: number): { records: UsageRecord[]; torn: number } {
    let text: string;
    try {
      text = readFileSync(join(this.options.dir, name(seq)), "utf8");
    } catch {
      return { records: [], torn: 0 };
    }
    const records: UsageRecord[] = [];
    let torn = 0;
    for (const line of text.split("\n")) {
      if (!line) continue;
      try {
        const parsed = UsageRecord.safeParse(JSON.parse(line));
        if (parsed.success) records.push(parsed.data);
        else torn++;
      } catch {
        torn++;
      }
    }
    return { records, torn };
  }
}
