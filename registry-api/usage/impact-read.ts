/**
 * Reading impact figures from the roll-ups (rollup.ts). A range of days is split into the whole
 * months it covers and the days left at its edges; sums add up, people are the union of the
 * stored sets, read from the coarsest dimension that still answers the question (the whole
 * fleet's sets for a fleet-wide trend, a server's for a viewer who sees only some servers).
 */
import { PeopleUnion } from "./people-set.js";
import { type PeopleDimension, weekOf } from "./rollup.js";
import type { SqlSession, SqlValue } from "./sql.js";

export type Grouping = "server" | "tool" | "team" | "month" | "week" | "day";

export interface RangeParts {
  /** Months (YYYY-MM) wholly inside the range. */
  months: string[];
  /** Day ranges (YYYY-MM-DD, both ends included) not covered by those months. */
  days: Array<[string, string]>;
}

const DAY_MS = 86_400_000;
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const parse = (day: string) => Date.parse(`${day}T00:00:00Z`);
const lastDayOfMonth = (month: string) => {
  const [y, m] = month.split("-").map(Number) as [number, number];
  return dayOf(Date.UTC(y, m, 1) - DAY_MS);
};
const nextMonth = (month: string) => {
  const [y, m] = month.split("-").map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 7);
};

/** Splits [from, to] into whole months and edge days; `byDay` keeps it all as days. */
export function splitRange(from: string, to: string, byDay: boolean): RangeParts {
  if (from > to) return { months: [], days: [] };
  if (byDay) return { months: [], days: [[from, to]] };
  // The first month starting on or after `from`, and the last ending on or before `to`.
  const first = from.endsWith("-01") ? from.slice(0, 7) : nextMonth(from.slice(0, 7));
  const months: string[] = [];
  for (let m = first; lastDayOfMonth(m) <= to; m = nextMonth(m)) months.push(m);
  if (months.length === 0) return { months, days: [[from, to]] };
  const days: Array<[string, string]> = [];
  const start = `${months[0]}-01`;
  if (from < start) days.push([from, dayOf(parse(start) - DAY_MS)]);
  const end = lastDayOfMonth(months.at(-1)!);
  if (end < to) days.push([dayOf(parse(end) + DAY_MS), to]);
  return { months, days };
}

function dayCondition(parts: RangeParts, params: SqlValue[]): string {
  if (parts.days.length === 0) return "1 = 0";
  return `(${parts.days
    .map(([a, b]) => {
      params.push(a, b);
      return "(day >= ? AND day <= ?)";
    })
    .join(" OR ")})`;
}

function monthCondition(parts: RangeParts, params: SqlValue[]): string {
  if (parts.months.length === 0) return "1 = 0";
  params.push(...parts.months);
  return `month IN (${parts.months.map(() => "?").join(", ")})`;
}

function serverCondition(servers: readonly string[] | undefined, params: SqlValue[]): string {
  if (!servers) return "";
  params.push(...servers);
  return ` AND server IN (${servers.map(() => "?").join(", ")})`;
}

export interface SumRow {
  key: Record<string, string>;
  calls: number;
  ok: number;
  minutes: number;
}

/** Sums grouped by `columns` (any of day, week, month, server, tool, team). */
export async function readSums(db: SqlSession, parts: RangeParts, servers: readonly string[] | undefined, columns: readonly string[]): Promise<SumRow[]> {
  const params: SqlValue[] = [];
  const cols = columns.join(", ");
  const select = (table: string, when: string) => `SELECT ${cols}, calls, ok_calls, minutes_saved FROM ${table} WHERE ${when}${serverCondition(servers, params)}`;
  const branches = [select("usage_sums_day", dayCondition(parts, params))];
  // Months only answer groupings that do not need the day or week.
  if (parts.months.length > 0) branches.push(select("usage_sums_month", monthCondition(parts, params)));
  const rows = await db.all<Record<string, string | number>>(
    `SELECT ${cols}, SUM(calls) AS calls, SUM(ok_calls) AS ok, SUM(minutes_saved) AS minutes FROM (${branches.join(" UNION ALL ")}) AS u GROUP BY ${cols}`,
    params,
  );
  return rows.map((r) => ({ key: Object.fromEntries(columns.map((c) => [c, String(r[c])])), calls: Number(r.calls), ok: Number(r.ok), minutes: Number(r.minutes) }));
}

/** The dimension whose sets answer a grouping, and how a set's row maps to its group. */
function peoplePlan(groupBy: Grouping, filtered: boolean): { dim: PeopleDimension; group: (period: string, key: unknown[]) => string; server: (key: unknown[]) => string } {
  const serverOf = (key: unknown[]) => String(key[0]);
  switch (groupBy) {
    case "server":
      return { dim: "server", group: (_p, k) => String(k[0]), server: serverOf };
    case "tool":
      return { dim: "tool", group: (_p, k) => `${k[0]}/${k[1]}`, server: serverOf };
    case "team":
      return filtered ? { dim: "server", group: (_p, k) => String(k[1]), server: serverOf } : { dim: "team", group: (_p, k) => String(k[0]), server: serverOf };
    default: {
      const group = groupBy === "month" ? (p: string) => p.slice(0, 7) : groupBy === "week" ? (p: string) => weekOf(p) : (p: string) => p;
      return { dim: filtered ? "server" : "fleet", group: (p) => group(p), server: serverOf };
    }
  }
}

/** Distinct people per group and in all, by the union of the stored sets. */
export async function readPeople(
  db: SqlSession,
  parts: RangeParts,
  servers: readonly string[] | undefined,
  groupBy: Grouping,
): Promise<{ groups: Map<string, number>; total: number }> {
  const plan = peoplePlan(groupBy, servers !== undefined);
  const params: SqlValue[] = [plan.dim];
  const branches = [`SELECT day AS p, key, people FROM usage_people_day WHERE dim = ? AND ${dayCondition(parts, params)}`];
  if (parts.months.length > 0) {
    params.push(plan.dim);
    branches.push(`SELECT month AS p, key, people FROM usage_people_month WHERE dim = ? AND ${monthCondition(parts, params)}`);
  }
  const rows = await db.all<{ p: string; key: string; people: Uint8Array }>(branches.join(" UNION ALL "), params);
  const visible = servers ? new Set(servers) : undefined;
  const unions = new Map<string, PeopleUnion>();
  const total = new PeopleUnion();
  for (const row of rows) {
    const key = row.key === "" ? [] : (JSON.parse(row.key) as unknown[]);
    if (visible && !visible.has(plan.server(key))) continue;
    const group = plan.group(row.p, key);
    let u = unions.get(group);
    if (!u) unions.set(group, (u = new PeopleUnion()));
    u.add(row.people);
    total.add(row.people);
  }
  return { groups: new Map([...unions].map(([k, u]) => [k, u.size])), total: total.size };
}
