/**
 * Usage ingest: records per second through the registry's usage API (a registry process, the
 * server's service-account token, batches of 500 as the kit sends them, 4 concurrent senders)
 * against inserting the same batches straight into the same kind of database with the store,
 * in this process, at the same concurrency. SQLite, and PostgreSQL from the local harness.
 *   node dist/bench/usage-ingest.js [records=100000]
 * stdout: one figure per database; stderr: progress and absolute numbers.
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import pg from "pg";
import { startPostgres } from "../local/backends/postgres.js";
import { Identity, PRESTO, REGISTRY_AUDIENCE, api, registryNameOf, startRegistryProcess, tempDir } from "../registry-api/usage/test/fleet.js";
import { openPostgres } from "../registry-api/usage/postgres.js";
import { openSqlite } from "../registry-api/usage/sqlite.js";
import { UsageStore, type StoredRecord } from "../registry-api/usage/store.js";
import type { SqlDriver } from "../registry-api/usage/sql.js";

const TOTAL = Number(process.argv[2] ?? 100_000);
const BATCH = 500;
const SENDERS = 4;
const progress = (msg: string) => process.stderr.write(`[usage-ingest] ${msg}\n`);
const server = registryNameOf(PRESTO);

function batches(): StoredRecord[][] {
  const now = Date.now();
  const out: StoredRecord[][] = [];
  for (let b = 0; b < TOTAL / BATCH; b++) {
    out.push(
      Array.from({ length: BATCH }, (_, i) => ({
        id: randomUUID(),
        server,
        team: PRESTO.team,
        tool: ["run_query", "revenue", "flaky"][i % 3]!,
        caller: ((b * 7 + i) % 12_660).toString(16).padStart(64, "0"),
        callerKind: "person" as const,
        outcome: "ok" as const,
        durationMs: 12,
        minutesSaved: 5,
        at: new Date(now - ((b * BATCH + i) % (30 * 86_400)) * 1000).toISOString(),
      })),
    );
  }
  return out;
}

async function drive(all: StoredRecord[][], send: (batch: StoredRecord[]) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: SENDERS }, async () => {
      while (next < all.length) await send(all[next++]!);
    }),
  );
  return TOTAL / ((performance.now() - started) / 1000);
}

async function freshPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  const server = await startPostgres();
  const name = `bench_${randomUUID().replace(/-/g, "")}`;
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: server.urlFor(name),
    async drop() {
      const c = new pg.Client({ connectionString: server.url });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

async function run(kind: "sqlite" | "postgres", identity: Identity): Promise<void> {
  const withoutTeam = (b: StoredRecord[]) => b.map(({ team: _team, ...r }) => r);
  // Direct: the store in this process.
  const direct = kind === "sqlite" ? { file: join(tempDir("bench-usage-"), "direct.sqlite") } : await freshPostgres();
  const db: SqlDriver = "url" in direct ? await openPostgres(direct.url) : openSqlite(direct.file);
  const store = await UsageStore.open(db, { retentionDays: 400 });
  const directRate = await drive(batches(), async (b) => void (await store.ingest(b)));
  await store.close();
  if ("drop" in direct) await direct.drop();
  progress(`${kind}: direct ${Math.round(directRate)} records/s`);
  // Through the API: a registry process on a fresh database of the same kind.
  const target = kind === "sqlite" ? { file: join(tempDir("bench-usage-"), "api.sqlite") } : await freshPostgres();
  const registry = await startRegistryProcess(identity, "url" in target ? { url: target.url, file: "" } : target);
  const token = await identity.serviceAccount(`${PRESTO.namespace}/${PRESTO.name}`, REGISTRY_AUDIENCE);
  const apiRate = await drive(batches(), async (b) => {
    const r = await api(registry.url, "/api/v1/usage", token, { method: "POST", body: JSON.stringify({ records: withoutTeam(b) }) });
    if (r.status !== 200) throw new Error(`usage API answered ${r.status}: ${JSON.stringify(r.body)}`);
  });
  await registry.stop();
  if ("drop" in target) await target.drop();
  progress(`${kind}: through the API ${Math.round(apiRate)} records/s`);
  const ratio = apiRate / directRate;
  process.stdout.write(`bench usage-ingest (${kind}): ${ratio.toFixed(2)}x of direct inserts, ${Math.round(apiRate)} vs ${Math.round(directRate)} records/s (target >= 0.5x)\n`);
}

const identity = await Identity.start();
try {
  progress(`${TOTAL} records in batches of ${BATCH}, ${SENDERS} senders`);
  await run("sqlite", identity);
  await run("postgres", identity);
} finally {
  await identity.stop();
}
