/**
 * Impact queries over one million usage records: a year of a fleet of 40 servers (5 tools
 * each, 12,660 people), ingested through the store in time order. Then the queries the
 * Impact page makes (last 30 days by server, tool and team; the year by month), each run
 * repeatedly; the figure is the p99 latency against the 100 ms target, for SQLite and for
 * PostgreSQL from the local harness.
 *   node dist/bench/impact-query.js [records=1000000] [runs-per-query=50]
 * BENCH_DATABASES=sqlite or =postgres runs one of the two.
 * stdout: one figure per database; stderr: progress and each query's p50/p99.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import pg from "pg";
import { startPostgres } from "../local/backends/postgres.js";
import { seededRandom, tempDir } from "../registry-api/usage/test/fleet.js";
import { openPostgres } from "../registry-api/usage/postgres.js";
import { openSqlite } from "../registry-api/usage/sqlite.js";
import { UsageStore, type GroupBy, type StoredRecord } from "../registry-api/usage/store.js";

const TOTAL = Number(process.argv[2] ?? 1_000_000);
const RUNS = Number(process.argv[3] ?? 50);
const PEOPLE = 12_660;
const SERVERS = 40;
const TOOLS = 5;
const DAY = 86_400_000;
const progress = (msg: string) => process.stderr.write(`[impact-query] ${msg}\n`);

/**
 * A deterministic pseudo-random stream, so both databases get the same year, in the order a
 * fleet's records arrive (by time, a day after another): every call picks its server, tool and
 * person uniformly (the hardest case for roll-ups: almost no two calls share a person, tool
 * and day) and its moment uniformly within its day.
 */
function* year(): Generator<StoredRecord[]> {
  const rnd = seededRandom(42);
  const end = Date.now();
  const start = end - 365 * DAY;
  const batch = 1000;
  for (let done = 0; done < TOTAL; done += batch) {
    yield Array.from({ length: Math.min(batch, TOTAL - done) }, (_, i) => {
      const s = Math.floor(rnd() * SERVERS);
      const ok = rnd() < 0.9;
      // The n-th record of the year falls in the n-th share of it.
      const at = start + Math.floor(((done + i + rnd()) / TOTAL) * 365 * DAY);
      return {
        id: randomUUID(),
        server: `dev.toolfleet.team-${s % 12}/server-${s}`,
        team: `team-${s % 12}`,
        tool: `tool_${Math.floor(rnd() * TOOLS)}`,
        caller: Math.floor(rnd() * PEOPLE).toString(16).padStart(8, "0"),
        callerKind: "person" as const,
        outcome: ok ? ("ok" as const) : ("error" as const),
        durationMs: 30,
        minutesSaved: ok ? 6 : 0,
        at: new Date(at).toISOString(),
      };
    });
  }
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

async function measure(kind: string, store: UsageStore): Promise<void> {
  let started = performance.now();
  let n = 0;
  for (const batch of year()) {
    await store.ingest(batch);
    n += batch.length;
    if (n % 200_000 === 0) progress(`${kind}: ${n} records ingested`);
  }
  progress(`${kind}: ${TOTAL} records in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const to = day(Date.now());
  const month = day(Date.now() - 29 * DAY);
  const yearAgo = day(Date.now() - 364 * DAY);
  const queries: Array<[string, GroupBy, string]> = [
    ["30 days by server", "server", month],
    ["30 days by tool", "tool", month],
    ["30 days by team", "team", month],
    ["year by month", "month", yearAgo],
  ];
  const all: number[] = [];
  for (const [name, groupBy, from] of queries) {
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      started = performance.now();
      await store.impact({ from, to, servers: undefined, groupBy, estimate: "declared" });
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    all.push(...times);
    progress(`${kind}: ${name}: p50 ${times[Math.floor(RUNS * 0.5)]!.toFixed(1)} ms, p99 ${times[Math.min(RUNS - 1, Math.floor(RUNS * 0.99))]!.toFixed(1)} ms`);
  }
  all.sort((a, b) => a - b);
  const p99 = all[Math.min(all.length - 1, Math.floor(all.length * 0.99))]!;
  process.stdout.write(`bench impact-query-p99 (${kind}): ${p99.toFixed(1)} ms over ${TOTAL.toLocaleString("en-US")} records (target <= 100 ms)\n`);
}

const only = process.env.BENCH_DATABASES?.split(",");
if (!only || only.includes("sqlite")) {
  const store = await UsageStore.open(openSqlite(join(tempDir("bench-impact-"), "usage.sqlite")), { retentionDays: 400 });
  await measure("sqlite", store);
  await store.close();
}
if (!only || only.includes("postgres")) {
  const server = await startPostgres();
  const name = `bench_${randomUUID().replace(/-/g, "")}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const store = await UsageStore.open(await openPostgres(server.urlFor(name)), { retentionDays: 400 });
  try {
    await measure("postgres", store);
  } finally {
    await store.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}
