/**
 * The roll-ups every impact figure is read from, maintained in the transaction that stores the
 * records they count. Two kinds, each by day and by month:
 * - sums (`usage_sums_day`, `usage_sums_month`): calls, successful calls and minutes per server,
 *   tool and team;
 * - people (`usage_people_day`, `usage_people_month`): the set of distinct people (never
 *   service accounts) per dimension — the whole fleet, a server, a team, a tool — as an encoded
 *   set of dense person numbers (people-set.ts). A set is merged with the stored one under one
 *   lock, so concurrent batches never lose a person.
 * A month's rows cover whole months, so a range reads the months it spans entirely and the
 * days at its edges; the union of sets stays exact at any boundary.
 */
import { addPeople } from "./people-set.js";
import type { SqlDriver, SqlSession, SqlValue } from "./sql.js";

/** One counted thing: calls of one caller to one tool on one day. */
export interface Contribution {
  day: string;
  server: string;
  tool: string;
  team: string;
  caller: string;
  callerKind: "person" | "service";
  calls: number;
  ok: number;
  minutes: number;
}

export const PEOPLE_DIMENSIONS = ["fleet", "server", "team", "tool"] as const;
export type PeopleDimension = (typeof PEOPLE_DIMENSIONS)[number];

/** The row key of a people set in each dimension (JSON: no separator can be forged by a name). */
export function peopleKey(dim: PeopleDimension, c: { server: string; tool: string; team: string }): string {
  switch (dim) {
    case "fleet":
      return "";
    case "server":
      return JSON.stringify([c.server, c.team]);
    case "team":
      return JSON.stringify([c.team]);
    case "tool":
      return JSON.stringify([c.server, c.tool, c.team]);
  }
}

const DAY_MS = 86_400_000;
/** The Monday of the ISO week the day falls in. */
export function weekOf(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  const back = (d.getUTCDay() + 6) % 7;
  return new Date(d.getTime() - back * DAY_MS).toISOString().slice(0, 10);
}

/** Serialises roll-up writers across registry replicas on PostgreSQL (SQLite has one writer). */
const ROLLUP_LOCK = 72_405_170;
const CHUNK = 200;

interface Sums {
  values: SqlValue[];
  calls: number;
  ok: number;
  minutes: number;
}

function addSums(map: Map<string, Sums>, key: SqlValue[], c: Contribution): void {
  const k = JSON.stringify(key);
  let s = map.get(k);
  if (!s) map.set(k, (s = { values: key, calls: 0, ok: 0, minutes: 0 }));
  s.calls += c.calls;
  s.ok += c.ok;
  s.minutes += c.minutes;
}

function addPerson(map: Map<string, { period: string; dim: string; key: string; callers: Set<string> }>, period: string, dim: PeopleDimension, key: string, caller: string): void {
  const k = JSON.stringify([period, dim, key]);
  let s = map.get(k);
  if (!s) map.set(k, (s = { period, dim, key, callers: new Set() }));
  s.callers.add(caller);
}

/** Adds the contributions to every roll-up, inside the caller's transaction. */
export async function rollUp(db: SqlDriver, tx: SqlSession, contributions: readonly Contribution[]): Promise<void> {
  if (contributions.length === 0) return;
  if (db.dialect === "postgres") await tx.all("SELECT pg_advisory_xact_lock(?)", [ROLLUP_LOCK]);
  const sumsDay = new Map<string, Sums>();
  const sumsMonth = new Map<string, Sums>();
  const peopleDay = new Map<string, { period: string; dim: string; key: string; callers: Set<string> }>();
  const peopleMonth = new Map<string, { period: string; dim: string; key: string; callers: Set<string> }>();
  for (const c of contributions) {
    const month = c.day.slice(0, 7);
    addSums(sumsDay, [c.day, weekOf(c.day), month, c.server, c.tool, c.team], c);
    addSums(sumsMonth, [month, c.server, c.tool, c.team], c);
    if (c.callerKind !== "person") continue;
    for (const dim of PEOPLE_DIMENSIONS) {
      const key = peopleKey(dim, c);
      addPerson(peopleDay, c.day, dim, key, c.caller);
      addPerson(peopleMonth, month, dim, key, c.caller);
    }
  }
  await upsertSums(tx, "usage_sums_day", ["day", "week", "month", "server", "tool", "team"], ["day", "server", "tool", "team"], [...sumsDay.values()]);
  await upsertSums(tx, "usage_sums_month", ["month", "server", "tool", "team"], ["month", "server", "tool", "team"], [...sumsMonth.values()]);
  if (peopleDay.size === 0) return;
  const ids = await personIds(tx, new Set(contributions.filter((c) => c.callerKind === "person").map((c) => c.caller)));
  await mergePeople(tx, "usage_people_day", "day", [...peopleDay.values()], ids);
  await mergePeople(tx, "usage_people_month", "month", [...peopleMonth.values()], ids);
}

async function upsertSums(tx: SqlSession, table: string, columns: string[], conflict: string[], rows: Sums[]): Promise<void> {
  const placeholders = `(${[...columns, "calls", "ok_calls", "minutes_saved"].map(() => "?").join(", ")})`;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    await tx.run(
      `INSERT INTO ${table} (${columns.join(", ")}, calls, ok_calls, minutes_saved)
       VALUES ${chunk.map(() => placeholders).join(", ")}
       ON CONFLICT (${conflict.join(", ")}) DO UPDATE SET
         calls = ${table}.calls + excluded.calls,
         ok_calls = ${table}.ok_calls + excluded.ok_calls,
         minutes_saved = ${table}.minutes_saved + excluded.minutes_saved`,
      chunk.flatMap((r) => [...r.values, r.calls, r.ok, r.minutes]),
    );
  }
}

/** Each person's dense number, numbering the new ones after the highest so far. */
async function personIds(tx: SqlSession, callers: Set<string>): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  const all = [...callers];
  for (let i = 0; i < all.length; i += CHUNK) {
    const chunk = all.slice(i, i + CHUNK);
    for (const row of await tx.all<{ caller: string; n: number }>(`SELECT caller, n FROM usage_person_ids WHERE caller IN (${chunk.map(() => "?").join(", ")})`, chunk)) {
      ids.set(row.caller, Number(row.n));
    }
  }
  const fresh = all.filter((c) => !ids.has(c));
  if (fresh.length === 0) return ids;
  const [top] = await tx.all<{ n: number | null }>("SELECT MAX(n) AS n FROM usage_person_ids");
  let next = top?.n === null || top?.n === undefined ? 0 : Number(top.n) + 1;
  for (const c of fresh) ids.set(c, next++);
  for (let i = 0; i < fresh.length; i += CHUNK) {
    const chunk = fresh.slice(i, i + CHUNK);
    await tx.run(`INSERT INTO usage_person_ids (caller, n) VALUES ${chunk.map(() => "(?, ?)").join(", ")}`, chunk.flatMap((c) => [c, ids.get(c)!]));
  }
  return ids;
}

async function mergePeople(
  tx: SqlSession,
  table: string,
  period: string,
  sets: Array<{ period: string; dim: string; key: string; callers: Set<string> }>,
  ids: Map<string, number>,
): Promise<void> {
  for (let i = 0; i < sets.length; i += CHUNK) {
    const chunk = sets.slice(i, i + CHUNK);
    const stored = new Map<string, Uint8Array>();
    const rows = await tx.all<{ p: string; dim: string; key: string; people: Uint8Array }>(
      `SELECT ${period} AS p, dim, key, people FROM ${table} WHERE (dim, ${period}, key) IN (VALUES ${chunk.map(() => "(?, ?, ?)").join(", ")})`,
      chunk.flatMap((s) => [s.dim, s.period, s.key]),
    );
    for (const row of rows) stored.set(JSON.stringify([row.p, row.dim, row.key]), row.people);
    const merged = chunk.map((s) => {
      const before = stored.get(JSON.stringify([s.period, s.dim, s.key]));
      return [s.dim, s.period, s.key, addPeople(before, [...s.callers].map((c) => ids.get(c)!))] as SqlValue[];
    });
    await tx.run(
      `INSERT INTO ${table} (dim, ${period}, key, people) VALUES ${merged.map(() => "(?, ?, ?, ?)").join(", ")}
       ON CONFLICT (dim, ${period}, key) DO UPDATE SET people = excluded.people`,
      merged.flat(),
    );
  }
}
