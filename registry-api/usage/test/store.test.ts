/**
 * One suite, two databases: the usage store on embedded SQLite and on a real PostgreSQL
 * server (started from Debian's packages by local/backends/postgres.ts, reused across runs).
 * What a registry would observe: records counted once however often they arrive, exact
 * figures by every grouping, feedback replaced within a day, pruning that keeps the figures.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { startPostgres } from "../../../local/backends/postgres.js";
import { seededRandom } from "./fleet.js";
import { MIGRATIONS, migrate, schemaVersion } from "../migrations.js";
import { openPostgres } from "../postgres.js";
import type { SqlDriver, SqlValue } from "../sql.js";
import { openSqlite } from "../sqlite.js";
import { type GroupBy, type ImpactQuery, UsageStore, type StoredRecord } from "../store.js";

const A = "dev.toolfleet.local.data-platform/presto";
const B = "dev.toolfleet.local.ml/spark";
const person = (n: number) => `${"a".repeat(63)}${n}`;
const service = "f".repeat(64);

function rec(over: Partial<StoredRecord> & { at: string }): StoredRecord {
  return { id: randomUUID(), server: A, team: "data-platform", tool: "run_query", caller: person(1), callerKind: "person", outcome: "ok", durationMs: 12, minutesSaved: 5, ...over };
}

/** A fleet's month and a half: three people and a service, two servers, two teams. */
function fixture(): StoredRecord[] {
  return [
    rec({ at: "2026-10-30T10:00:00.000Z" }), // October, person 1
    rec({ at: "2026-11-02T10:00:00.000Z", caller: person(2) }),
    rec({ at: "2026-11-02T11:00:00.000Z", caller: person(2) }),
    rec({ at: "2026-11-03T09:00:00.000Z", caller: person(3), outcome: "error", minutesSaved: 0 }),
    rec({ at: "2026-11-03T09:30:00.000Z", caller: service, callerKind: "service" }),
    rec({ at: "2026-11-10T12:00:00.000Z", server: B, team: "ml", tool: "list_apps", caller: person(1), minutesSaved: 3 }),
    rec({ at: "2026-11-10T12:05:00.000Z", server: B, team: "ml", tool: "list_apps", caller: person(3), outcome: "denied", minutesSaved: 0 }),
  ];
}

/**
 * Three months across a new year: four servers (one changes team half-way), three tools, 40
 * people and 3 services, every outcome; records arrive shuffled, so months get late records.
 */
function season(): StoredRecord[] {
  const rnd = seededRandom(12);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const start = Date.parse("2025-12-20T00:00:00Z");
  const span = Date.parse("2026-03-10T00:00:00Z") - start;
  const out: StoredRecord[] = [];
  for (let i = 0; i < 3000; i++) {
    const at = start + Math.floor(rnd() * span);
    const server = pick(["s1", "s2", "s3", "s4"]);
    const team = server === "s4" && at >= Date.parse("2026-02-01T00:00:00Z") ? "team-b" : server === "s1" ? "team-b" : "team-a";
    const service = rnd() < 0.1;
    const outcome = pick(["ok", "ok", "ok", "error", "denied", "declined"] as const);
    out.push(
      rec({
        at: new Date(at).toISOString(),
        server: server === "s1" ? "dev.toolfleet.local.team-b/s1" : `dev.toolfleet.local.team-a/${server}`,
        team,
        tool: pick(["a", "b", "c"]),
        caller: service ? `${"e".repeat(63)}${Math.floor(rnd() * 3)}` : `${Math.floor(rnd() * 40).toString(16).padStart(64, "0")}`,
        callerKind: service ? "service" : "person",
        outcome,
        minutesSaved: outcome === "ok" ? Math.floor(rnd() * 20) : 0,
      }),
    );
  }
  return out;
}

const DAY = 86_400_000;
const dayOf = (iso: string) => iso.slice(0, 10);
const mondayOf = (iso: string) => {
  const d = Date.parse(`${dayOf(iso)}T00:00:00Z`);
  return new Date(d - ((new Date(d).getUTCDay() + 6) % 7) * DAY).toISOString().slice(0, 10);
};

/** The figures counted straight from the records: what the roll-ups must reproduce. */
function counted(records: readonly StoredRecord[], q: ImpactQuery) {
  const groupOf: Record<GroupBy, (r: StoredRecord) => string> = {
    server: (r) => r.server,
    tool: (r) => `${r.server}/${r.tool}`,
    team: (r) => r.team,
    month: (r) => r.at.slice(0, 7),
    week: (r) => mondayOf(r.at),
    day: (r) => dayOf(r.at),
  };
  const inRange = records.filter((r) => dayOf(r.at) >= q.from && dayOf(r.at) <= q.to && (!q.servers || q.servers.includes(r.server)));
  const figures = (rs: StoredRecord[]) => {
    const minutes = rs.reduce((n, r) => n + r.minutesSaved, 0);
    return {
      calls: rs.length,
      okCalls: rs.filter((r) => r.outcome === "ok").length,
      people: new Set(rs.filter((r) => r.callerKind === "person").map((r) => r.caller)).size,
      minutesSaved: minutes,
      hoursSaved: Math.round((minutes / 60) * 100) / 100,
    };
  };
  const groups = new Map<string, StoredRecord[]>();
  for (const r of inRange) groups.set(groupOf[q.groupBy](r), [...(groups.get(groupOf[q.groupBy](r)) ?? []), r]);
  return {
    total: figures(inRange),
    groups: [...groups.keys()].sort().map((key) => ({ key, ...figures(groups.get(key)!) })),
  };
}

interface Backend {
  name: string;
  open(): Promise<SqlDriver>;
  teardown(): Promise<void>;
}

const sqlite = (): Backend => {
  const file = join(mkdtempSync(join(tmpdir(), "usage-store-")), "usage.sqlite");
  return { name: "SQLite", open: async () => openSqlite(file), teardown: async () => undefined };
};

const postgres = (): Backend => {
  const database = `usage_test_${randomUUID().replace(/-/g, "")}`;
  let admin: string;
  let url: string;
  return {
    name: "PostgreSQL",
    async open() {
      if (!url) {
        const server = await startPostgres();
        admin = server.url;
        const c = new pg.Client({ connectionString: admin });
        await c.connect();
        await c.query(`CREATE DATABASE ${database}`);
        await c.end();
        url = server.urlFor(database);
      }
      return openPostgres(url);
    },
    async teardown() {
      if (!admin) return;
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await c.end();
    },
  };
};

describe.each([["SQLite", sqlite], ["PostgreSQL", postgres]])("usage store on %s", (_name, make) => {
  const backend = make();
  let store: UsageStore;
  beforeAll(async () => {
    store = await UsageStore.open(await backend.open(), { retentionDays: 400 });
  }, 240_000);
  afterAll(async () => {
    await store?.close();
    await backend.teardown();
  });

  it("migrates once: a second open applies nothing and keeps the data", async () => {
    expect(await schemaVersion(store.db)).toBe(MIGRATIONS.at(-1)!.version);
    await store.ingest([rec({ at: "2025-01-01T00:00:00.000Z", id: "00000000-0000-4000-8000-000000000001" })]);
    const again = await UsageStore.open(await backend.open(), { retentionDays: 400 });
    expect(await schemaVersion(again.db)).toBe(MIGRATIONS.at(-1)!.version);
    expect(await again.rawCount()).toBe(1);
    await again.close();
  });

  it("stores each record once, however often and however concurrently it arrives", async () => {
    const batch = fixture();
    const [first, second] = await Promise.all([store.ingest(batch), store.ingest(batch)]);
    expect(first.accepted + second.accepted).toBe(batch.length);
    expect(first.duplicates + second.duplicates).toBe(batch.length);
    expect(await store.ingest(batch.slice(2, 5))).toEqual({ accepted: 0, duplicates: 3 });
    expect(await store.rawCount()).toBe(1 + batch.length);
  });

  const q = { from: "2026-10-01", to: "2026-11-30", servers: undefined, estimate: "declared" as const };

  it("answers exact figures by server, tool, team, month and week", async () => {
    const byServer = await store.impact({ ...q, groupBy: "server" });
    expect(byServer.total).toEqual({ calls: 7, okCalls: 5, people: 3, minutesSaved: 23, hoursSaved: 0.38 });
    expect(byServer.groups).toEqual([
      { key: A, server: A, calls: 5, okCalls: 4, people: 3, minutesSaved: 20, hoursSaved: 0.33 },
      { key: B, server: B, calls: 2, okCalls: 1, people: 2, minutesSaved: 3, hoursSaved: 0.05 },
    ]);
    const byTool = await store.impact({ ...q, groupBy: "tool" });
    expect(byTool.groups.map((g) => [g.server, g.tool, g.calls, g.people])).toEqual([
      [A, "run_query", 5, 3],
      [B, "list_apps", 2, 2],
    ]);
    const byTeam = await store.impact({ ...q, groupBy: "team" });
    expect(byTeam.groups.map((g) => [g.team, g.calls, g.okCalls, g.people, g.minutesSaved])).toEqual([
      ["data-platform", 5, 4, 3, 20],
      ["ml", 2, 1, 2, 3],
    ]);
    const byMonth = await store.impact({ ...q, groupBy: "month" });
    expect(byMonth.groups.map((g) => [g.key, g.calls, g.people, g.minutesSaved])).toEqual([
      ["2026-10", 1, 1, 5],
      ["2026-11", 6, 3, 18],
    ]);
    const byWeek = await store.impact({ ...q, groupBy: "week" });
    expect(byWeek.groups.map((g) => [g.key, g.calls])).toEqual([
      ["2026-10-26", 1],
      ["2026-11-02", 4],
      ["2026-11-09", 2],
    ]);
  });

  it("counts only the servers a viewer may see, and only days in range", async () => {
    const onlyB = await store.impact({ ...q, servers: [B], groupBy: "server" });
    expect(onlyB.total).toMatchObject({ calls: 2, people: 2 });
    expect(onlyB.groups.map((g) => g.key)).toEqual([B]);
    expect((await store.impact({ ...q, servers: [], groupBy: "server" })).total.calls).toBe(0);
    const oneDay = await store.impact({ ...q, from: "2026-11-03", to: "2026-11-03", groupBy: "server" });
    expect(oneDay.total).toMatchObject({ calls: 2, okCalls: 1, people: 1 });
  });

  it("keeps one feedback per person, tool and day, and calibrates by its median", async () => {
    const at = new Date("2026-11-20T10:00:00Z");
    expect(await store.putFeedback({ server: A, tool: "run_query", person: "ann", minutesSaved: 30, helpful: true, at })).toEqual({ replaced: false });
    expect(await store.putFeedback({ server: A, tool: "run_query", person: "ann", minutesSaved: 10, helpful: true, at: new Date("2026-11-20T18:00:00Z") })).toEqual({ replaced: true });
    await store.putFeedback({ server: A, tool: "run_query", person: "ann", minutesSaved: 14, helpful: false, at: new Date("2026-11-21T09:00:00Z") });
    await store.putFeedback({ server: A, tool: "run_query", person: "bob", minutesSaved: 20, helpful: true, comment: "quick", at });
    expect(await store.feedbackSummary([A])).toEqual([{ server: A, tool: "run_query", count: 3, medianMinutes: 14, helpful: 2 }]);
    const calibrated = await store.impact({ ...q, estimate: "feedback", groupBy: "server" });
    // A's 4 successful calls at the median 14 minutes; B has no feedback and keeps its declared 3.
    expect(calibrated.groups.map((g) => [g.key, g.minutesSaved])).toEqual([
      [A, 56],
      [B, 3],
    ]);
    expect(calibrated.total.minutesSaved).toBe(59);
  });

  it("prunes raw records past retention and keeps their roll-ups", async () => {
    const before = await store.impact({ ...q, groupBy: "month" });
    const { removed } = await store.prune(new Date("2027-12-05T00:00:00Z")); // cut-off 400 days earlier: 2026-10-31
    expect(removed).toBe(2); // the 2025 record and October's
    expect(await store.rawCount()).toBe(6);
    expect(await store.impact({ ...q, groupBy: "month" })).toEqual(before);
  });

  it("agrees with counting the raw records at every grouping, across month and year boundaries, and after pruning", async () => {
    const own = make();
    const fresh = await UsageStore.open(await own.open(), { retentionDays: 30 });
    try {
      const records = season();
      const order = seededRandom(3);
      const shuffled = records.map((r) => [order(), r] as const).sort((a, b) => a[0] - b[0]).map(([, r]) => r);
      for (let i = 0, size = 1; i < shuffled.length; i += size, size = (size * 7) % 613) {
        // Each batch also arrives twice at once, and overlaps the previous one.
        const batch = shuffled.slice(Math.max(0, i - 5), i + size);
        await Promise.all([fresh.ingest(batch), fresh.ingest(batch)]);
      }
      expect(await fresh.rawCount()).toBe(records.length);
      const ranges: Array<[string, string]> = [
        ["2025-12-01", "2026-03-31"], // everything
        ["2025-12-20", "2026-03-09"], // edges inside months, across the new year
        ["2026-01-01", "2026-01-31"], // exactly one month
        ["2025-12-31", "2026-02-01"], // one whole month and a day either side
        ["2026-01-31", "2026-01-31"], // a month's last day
        ["2026-02-01", "2026-03-01"], // a month and the next one's first day
        ["2026-01-15", "2026-02-14"], // no whole month
      ];
      const views = [undefined, ["dev.toolfleet.local.team-b/s1"], ["dev.toolfleet.local.team-b/s1", "dev.toolfleet.local.team-a/s4"]];
      const check = async () => {
        for (const [from, to] of ranges) {
          for (const servers of views) {
            for (const groupBy of ["server", "tool", "team", "month", "week", "day"] as const) {
              const query: ImpactQuery = { from, to, servers, groupBy, estimate: "declared" };
              const report = await fresh.impact(query);
              const expected = counted(records, query);
              expect({ query, total: report.total }).toEqual({ query, total: { ...expected.total, minutesSaved: expect.any(Number) } });
              expect(report.total.minutesSaved).toBeCloseTo(expected.total.minutesSaved, 6);
              expect({ query, groups: report.groups.map((g) => [g.key, g.calls, g.okCalls, g.people, g.minutesSaved]) }).toEqual({
                query,
                groups: expected.groups.map((g) => [g.key, g.calls, g.okCalls, g.people, g.minutesSaved]),
              });
            }
          }
        }
      };
      await check();
      const { removed } = await fresh.prune(new Date("2026-03-01T00:00:00Z")); // keeps 30 days: from 2026-01-30
      expect(removed).toBe(records.filter((r) => r.at < "2026-01-30").length);
      expect(removed).toBeGreaterThan(1000);
      await check();
    } finally {
      await fresh.close();
      await own.teardown();
    }
  }, 240_000);

  it("carries a version-1 database's per-caller daily rows into the roll-ups, figure for figure", async () => {
    const own = make();
    const db = await own.open();
    try {
      await migrate(db, MIGRATIONS.slice(0, 1));
      const records = season();
      // What version 1 stored: one row per day, server, tool, team and caller.
      const rows = new Map<string, SqlValue[]>();
      for (const r of records) {
        const day = dayOf(r.at);
        const key = JSON.stringify([day, r.server, r.tool, r.team, r.caller]);
        const row = rows.get(key) ?? [day, mondayOf(r.at), r.at.slice(0, 7), r.server, r.team, r.tool, r.caller, r.callerKind, 0, 0, 0];
        row[8] = Number(row[8]) + 1;
        row[9] = Number(row[9]) + (r.outcome === "ok" ? 1 : 0);
        row[10] = Number(row[10]) + r.minutesSaved;
        rows.set(key, row);
      }
      for (const row of rows.values()) {
        await db.run("INSERT INTO usage_daily (day, week, month, server, team, tool, caller, caller_kind, calls, ok_calls, minutes_saved) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row);
      }
      const store = await UsageStore.open(db, { retentionDays: 400 });
      expect(await schemaVersion(db)).toBe(MIGRATIONS.at(-1)!.version);
      for (const groupBy of ["server", "tool", "team", "month", "week"] as const) {
        for (const servers of [undefined, ["dev.toolfleet.local.team-a/s4"]]) {
          const query: ImpactQuery = { from: "2025-12-25", to: "2026-03-05", servers, groupBy, estimate: "declared" };
          const expected = counted(records, query);
          expect(await store.impact(query)).toEqual({ total: expected.total, groups: expected.groups.map((g) => expect.objectContaining(g)) });
        }
      }
      expect((await db.all<{ n: number }>("SELECT COUNT(*) AS n FROM schema_migrations")).map((r) => Number(r.n))).toEqual([MIGRATIONS.length]);
    } finally {
      await db.close();
      await own.teardown();
    }
  }, 240_000);
});
