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
import { MIGRATIONS, schemaVersion } from "../migrations.js";
import { openPostgres } from "../postgres.js";
import type { SqlDriver } from "../sql.js";
import { openSqlite } from "../sqlite.js";
import { UsageStore, type StoredRecord } from "../store.js";

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
});
