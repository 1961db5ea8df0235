/**
 * The usage store: records in, impact figures and feedback out, on either SQL driver. Each
 * record is inserted once by id (a redelivered batch counts nothing twice) and, in the same
 * transaction, added to its day's roll-up row, which is what every figure is read from; raw
 * records older than the retention period are deleted, the roll-ups stay.
 */
import { createHmac, randomBytes } from "node:crypto";
import type { UsageRecord } from "../../crds/usage.js";
import { readPeople, readSums, splitRange } from "./impact-read.js";
import { migrate } from "./migrations.js";
import { type Contribution, rollUp } from "./rollup.js";
import type { SqlDriver, SqlValue } from "./sql.js";

/** A record as a server reported it (the caller by name), with what the registry adds. */
export interface StoredRecord extends UsageRecord {
  /** The owner team of the server when the record arrived. */
  team: string;
}

/** Who is behind a caller hash: for admins only. */
export interface CallerName {
  caller: string;
  callerKind: UsageRecord["callerKind"];
  name: string;
}

export const GROUP_BY = ["server", "tool", "team", "month", "week", "day"] as const;
export type GroupBy = (typeof GROUP_BY)[number];
export const ESTIMATES = ["declared", "feedback"] as const;
export type Estimate = (typeof ESTIMATES)[number];

export interface ImpactQuery {
  /** First and last day, YYYY-MM-DD (UTC), both included. */
  from: string;
  to: string;
  /** Registry names the viewer may see; undefined: the whole fleet. */
  servers: readonly string[] | undefined;
  groupBy: GroupBy;
  estimate: Estimate;
}

export interface Figures {
  calls: number;
  okCalls: number;
  /** Distinct people (service accounts are not people). */
  people: number;
  minutesSaved: number;
  hoursSaved: number;
}

export interface ImpactGroup extends Figures {
  key: string;
  server?: string;
  tool?: string;
  team?: string;
}

export interface ImpactReport {
  total: Figures;
  groups: ImpactGroup[];
}

export interface Feedback {
  server: string;
  tool: string;
  /** Who gave it, in clear; the store keeps only a keyed hash. */
  person: string;
  minutesSaved: number;
  helpful: boolean;
  comment?: string;
  at: Date;
}

export interface FeedbackSummary {
  server: string;
  tool: string;
  count: number;
  medianMinutes: number;
  helpful: number;
}

const DAY_MS = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

const KEY_COLUMNS: Record<GroupBy, string[]> = {
  server: ["server"],
  tool: ["server", "tool"],
  team: ["team"],
  month: ["month"],
  week: ["week"],
  day: ["day"],
};

const INSERT_CHUNK = 200;

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const hours = (minutes: number) => Math.round((minutes / 60) * 100) / 100;
const round = (n: number) => Math.round(n * 1000) / 1000;

export class UsageStore {
  private constructor(
    readonly db: SqlDriver,
    private readonly feedbackKey: string,
    private readonly callerKey: string,
    private readonly retentionDays: number,
  ) {}

  /** Migrates the database to the current schema and opens the store on it. */
  static async open(db: SqlDriver, options: { retentionDays: number }): Promise<UsageStore> {
    await migrate(db);
    return new UsageStore(db, await storeKey(db, "feedback_key"), await storeKey(db, "caller_key"), options.retentionDays);
  }

  /**
   * The keyed hash a caller is counted by. The key never leaves the registry's database, so no
   * server (and no one who can read a server's namespace) can compute or forge one; the kind is
   * part of the message, so a person and a service account never share a hash.
   */
  callerHash(kind: UsageRecord["callerKind"], name: string): string {
    return createHmac("sha256", this.callerKey).update(`${kind === "person" ? "user" : "serviceAccount"}:${name}`).digest("hex");
  }

  /** Who a caller hash stands for, if any record carried it. */
  async callerName(hash: string): Promise<CallerName | undefined> {
    const [row] = await this.db.all<{ caller: string; caller_kind: string; name: string }>("SELECT caller, caller_kind, name FROM usage_caller_names WHERE caller = ?", [hash]);
    return row ? { caller: row.caller, callerKind: row.caller_kind === "service" ? "service" : "person", name: row.name } : undefined;
  }

  /** Stores each record once; returns how many were new and how many it already had. */
  async ingest(records: readonly StoredRecord[], now: Date = new Date()): Promise<{ accepted: number; duplicates: number }> {
    if (records.length === 0) return { accepted: 0, duplicates: 0 };
    const names = new Map<string, { kind: UsageRecord["callerKind"]; name: string }>();
    const hashes = records.map((r) => {
      const hash = this.callerHash(r.callerKind, r.caller);
      names.set(hash, { kind: r.callerKind, name: r.caller });
      return hash;
    });
    return this.db.transaction(async (tx) => {
      const inserted = new Set<string>();
      for (let i = 0; i < records.length; i += INSERT_CHUNK) {
        const chunk = records.slice(i, i + INSERT_CHUNK);
        const params: SqlValue[] = [];
        chunk.forEach((r, j) => {
          params.push(r.id, r.server, r.team, r.tool, hashes[i + j]!, r.callerKind, r.outcome, r.durationMs, r.minutesSaved, Date.parse(r.at), now.getTime());
        });
        const rows = await tx.all<{ id: string }>(
          `INSERT INTO usage_records (id, server, team, tool, caller, caller_kind, outcome, duration_ms, minutes_saved, at_ms, received_ms)
           VALUES ${chunk.map(() => "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}
           ON CONFLICT (id) DO NOTHING RETURNING id`,
          params,
        );
        for (const row of rows) inserted.add(row.id);
      }
      // Only new records reach the roll-ups.
      const contributions: Contribution[] = [];
      records.forEach((r, i) => {
        if (!inserted.delete(r.id)) return;
        const ok = r.outcome === "ok";
        contributions.push({ day: day(Date.parse(r.at)), server: r.server, tool: r.tool, team: r.team, caller: hashes[i]!, callerKind: r.callerKind, calls: 1, ok: ok ? 1 : 0, minutes: r.minutesSaved });
      });
      const counted = new Set(contributions.map((c) => c.caller));
      const known = [...names].filter(([hash]) => counted.has(hash));
      for (let i = 0; i < known.length; i += INSERT_CHUNK) {
        const chunk = known.slice(i, i + INSERT_CHUNK);
        await tx.run(
          `INSERT INTO usage_caller_names (caller, caller_kind, name) VALUES ${chunk.map(() => "(?, ?, ?)").join(", ")} ON CONFLICT (caller) DO NOTHING`,
          chunk.flatMap(([hash, n]) => [hash, n.kind, n.name]),
        );
      }
      await rollUp(this.db, tx, contributions);
      return { accepted: contributions.length, duplicates: records.length - contributions.length };
    });
  }

  async impact(q: ImpactQuery): Promise<ImpactReport> {
    const empty: Figures = { calls: 0, okCalls: 0, people: 0, minutesSaved: 0, hoursSaved: 0 };
    if (q.servers && q.servers.length === 0) return { total: empty, groups: [] };
    const keys = KEY_COLUMNS[q.groupBy];
    const parts = splitRange(q.from, q.to, q.groupBy === "week" || q.groupBy === "day");
    // Calibrating by feedback needs each tool's successful calls; declared minutes add up as they are.
    const sumColumns = q.estimate === "feedback" ? [...new Set([...keys, "server", "tool"])] : keys;
    const [sums, people, calibrated] = await Promise.all([
      readSums(this.db, parts, q.servers, sumColumns),
      readPeople(this.db, parts, q.servers, q.groupBy),
      q.estimate === "feedback" ? this.calibration(q.servers) : Promise.resolve(new Map<string, number>()),
    ]);

    const keyOf = (row: Record<string, string>) => keys.map((k) => row[k]).join("/");
    const groups = new Map<string, ImpactGroup>();
    const total = { ...empty };
    for (const row of sums) {
      const key = keyOf(row.key);
      let g = groups.get(key);
      if (!g) {
        g = { key, ...Object.fromEntries(keys.map((k) => [k, row.key[k]!])), ...empty };
        groups.set(key, g);
      }
      const perCall = calibrated.get(`${row.key.server} ${row.key.tool}`);
      const minutes = perCall !== undefined ? row.ok * perCall : row.minutes;
      g.calls += row.calls;
      g.okCalls += row.ok;
      g.minutesSaved += minutes;
      total.calls += row.calls;
      total.okCalls += row.ok;
      total.minutesSaved += minutes;
    }
    for (const [key, n] of people.groups) {
      const g = groups.get(key);
      if (g) g.people = n;
    }
    total.people = people.total;
    const finish = <T extends Figures>(f: T): T => ({ ...f, minutesSaved: round(f.minutesSaved), hoursSaved: hours(f.minutesSaved) });
    return {
      total: finish(total),
      groups: [...groups.values()].map(finish).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    };
  }

  /** The median of people's feedback per tool, where there is any: "server tool" → minutes. */
  private async calibration(servers: readonly string[] | undefined): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const s of await this.feedbackSummary(servers)) out.set(`${s.server} ${s.tool}`, s.medianMinutes);
    return out;
  }

  /** Stores a person's feedback; a second one the same day for the same tool replaces the first. */
  async putFeedback(f: Feedback): Promise<{ replaced: boolean }> {
    const person = createHmac("sha256", this.feedbackKey).update(f.person).digest("hex");
    const d = day(f.at.getTime());
    return this.db.transaction(async (tx) => {
      const before = await tx.all<{ n: number }>("SELECT COUNT(*) AS n FROM feedback WHERE server = ? AND tool = ? AND person = ? AND day = ?", [f.server, f.tool, person, d]);
      await tx.run(
        `INSERT INTO feedback (server, tool, person, day, minutes_saved, helpful, comment, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (server, tool, person, day) DO UPDATE SET
           minutes_saved = excluded.minutes_saved, helpful = excluded.helpful, comment = excluded.comment, at_ms = excluded.at_ms`,
        [f.server, f.tool, person, d, f.minutesSaved, f.helpful ? 1 : 0, f.comment ?? null, f.at.getTime()],
      );
      return { replaced: Number(before[0]?.n ?? 0) > 0 };
    });
  }

  async feedbackSummary(servers: readonly string[] | undefined): Promise<FeedbackSummary[]> {
    if (servers && servers.length === 0) return [];
    const rows = await this.db.all<{ server: string; tool: string; minutes_saved: number; helpful: number }>(
      `SELECT server, tool, minutes_saved, helpful FROM feedback${servers ? ` WHERE server IN (${servers.map(() => "?").join(", ")})` : ""}`,
      servers ?? [],
    );
    const by = new Map<string, { server: string; tool: string; minutes: number[]; helpful: number }>();
    for (const r of rows) {
      const key = `${r.server} ${r.tool}`;
      let s = by.get(key);
      if (!s) by.set(key, (s = { server: r.server, tool: r.tool, minutes: [], helpful: 0 }));
      s.minutes.push(Number(r.minutes_saved));
      if (Number(r.helpful)) s.helpful++;
    }
    return [...by.values()]
      .map((s) => ({ server: s.server, tool: s.tool, count: s.minutes.length, medianMinutes: median(s.minutes), helpful: s.helpful }))
      .sort((a, b) => (a.server + a.tool < b.server + b.tool ? -1 : 1));
  }

  /** Deletes raw records past the retention period; their roll-ups stay. */
  async prune(now: Date = new Date()): Promise<{ removed: number }> {
    const removed = await this.db.run("DELETE FROM usage_records WHERE at_ms < ?", [now.getTime() - this.retentionDays * DAY_MS]);
    return { removed };
  }

  async rawCount(): Promise<number> {
    const [row] = await this.db.all<{ n: number }>("SELECT COUNT(*) AS n FROM usage_records");
    return Number(row?.n ?? 0);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/** A secret the store keeps for itself, made once on first open. */
async function storeKey(db: SqlDriver, name: string): Promise<string> {
  await db.run("INSERT INTO store_settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", [name, randomBytes(32).toString("hex")]);
  const [key] = await db.all<{ value: string }>("SELECT value FROM store_settings WHERE name = ?", [name]);
  return key!.value;
}
