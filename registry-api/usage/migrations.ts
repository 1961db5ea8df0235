/**
 * The usage database's schema, as numbered migrations applied once each, in order, in a
 * transaction that also records the version (so a crash mid-way leaves the previous version).
 * The SQL is the common ground of SQLite and PostgreSQL; a migration may differ by dialect.
 * Never edit a released migration: add the next one.
 */
import { type Contribution, rollUp } from "./rollup.js";
import type { SqlDriver, SqlSession } from "./sql.js";

interface Migration {
  version: number;
  name: string;
  sql: (dialect: SqlDriver["dialect"]) => string[];
  /** Data to carry over, after the statements, in the same transaction. */
  data?: (db: SqlDriver, tx: SqlSession) => Promise<void>;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "usage records, daily roll-ups, feedback",
    sql: () => [
      // Raw records, kept for the retention period; the id makes delivery idempotent.
      `CREATE TABLE usage_records (
        id TEXT PRIMARY KEY,
        server TEXT NOT NULL,
        team TEXT NOT NULL,
        tool TEXT NOT NULL,
        caller TEXT NOT NULL,
        caller_kind TEXT NOT NULL,
        outcome TEXT NOT NULL,
        duration_ms DOUBLE PRECISION NOT NULL,
        minutes_saved DOUBLE PRECISION NOT NULL,
        at_ms BIGINT NOT NULL,
        received_ms BIGINT NOT NULL
      )`,
      "CREATE INDEX usage_records_at ON usage_records (at_ms)",
      // One row per day, server, tool and caller, updated as records arrive: what every impact
      // query reads, exact for distinct people at any grouping, and kept after raw records go.
      `CREATE TABLE usage_daily (
        day TEXT NOT NULL,
        week TEXT NOT NULL,
        month TEXT NOT NULL,
        server TEXT NOT NULL,
        team TEXT NOT NULL,
        tool TEXT NOT NULL,
        caller TEXT NOT NULL,
        caller_kind TEXT NOT NULL,
        calls BIGINT NOT NULL,
        ok_calls BIGINT NOT NULL,
        minutes_saved DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (day, server, tool, team, caller)
      )`,
      "CREATE INDEX usage_daily_server_day ON usage_daily (server, day)",
      // One per person, tool and day; a second the same day replaces the first.
      `CREATE TABLE feedback (
        server TEXT NOT NULL,
        tool TEXT NOT NULL,
        person TEXT NOT NULL,
        day TEXT NOT NULL,
        minutes_saved DOUBLE PRECISION NOT NULL,
        helpful INTEGER NOT NULL,
        comment TEXT,
        at_ms BIGINT NOT NULL,
        PRIMARY KEY (server, tool, person, day)
      )`,
      // Settings the store keeps itself, e.g. the key that hashes who gave feedback.
      "CREATE TABLE store_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ],
  },
  {
    version: 2,
    name: "roll-ups by day and month: sums without callers, people as sets of person numbers",
    sql: (dialect) => {
      const bytes = dialect === "postgres" ? "BYTEA" : "BLOB";
      return [
        "CREATE TABLE usage_person_ids (caller TEXT PRIMARY KEY, n INTEGER NOT NULL UNIQUE)",
        `CREATE TABLE usage_sums_day (
          day TEXT NOT NULL, week TEXT NOT NULL, month TEXT NOT NULL,
          server TEXT NOT NULL, tool TEXT NOT NULL, team TEXT NOT NULL,
          calls BIGINT NOT NULL, ok_calls BIGINT NOT NULL, minutes_saved DOUBLE PRECISION NOT NULL,
          PRIMARY KEY (day, server, tool, team)
        )`,
        `CREATE TABLE usage_sums_month (
          month TEXT NOT NULL, server TEXT NOT NULL, tool TEXT NOT NULL, team TEXT NOT NULL,
          calls BIGINT NOT NULL, ok_calls BIGINT NOT NULL, minutes_saved DOUBLE PRECISION NOT NULL,
          PRIMARY KEY (month, server, tool, team)
        )`,
        `CREATE TABLE usage_people_day (dim TEXT NOT NULL, day TEXT NOT NULL, key TEXT NOT NULL, people ${bytes} NOT NULL, PRIMARY KEY (dim, day, key))`,
        `CREATE TABLE usage_people_month (dim TEXT NOT NULL, month TEXT NOT NULL, key TEXT NOT NULL, people ${bytes} NOT NULL, PRIMARY KEY (dim, month, key))`,
      ];
    },
    // The per-caller daily rows of version 1 become the new roll-ups, then go.
    async data(db, tx) {
      const page = 5000;
      for (let offset = 0; ; offset += page) {
        const rows = await tx.all<Record<string, string | number>>(
          `SELECT day, server, tool, team, caller, caller_kind, calls, ok_calls, minutes_saved FROM usage_daily ORDER BY day, server, tool, team, caller LIMIT ${page} OFFSET ${offset}`,
        );
        const contributions: Contribution[] = rows.map((r) => ({
          day: String(r.day),
          server: String(r.server),
          tool: String(r.tool),
          team: String(r.team),
          caller: String(r.caller),
          callerKind: r.caller_kind === "person" ? "person" : "service",
          calls: Number(r.calls),
          ok: Number(r.ok_calls),
          minutes: Number(r.minutes_saved),
        }));
        await rollUp(db, tx, contributions);
        if (rows.length < page) break;
      }
      await tx.run("DROP TABLE usage_daily");
    },
  },
  {
    version: 3,
    name: "callers by name, for admins: servers report who called, the registry hashes it",
    sql: () => ["CREATE TABLE usage_caller_names (caller TEXT PRIMARY KEY, caller_kind TEXT NOT NULL, name TEXT NOT NULL)"],
  },
];

/** Applies every migration newer than the database; returns the versions applied. */
export async function migrate(db: SqlDriver, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)");
  const applied: number[] = [];
  for (const m of migrations) {
    const done = await db.transaction(async (tx) => {
      // Checked inside the transaction: two replicas starting at once apply it once (the
      // loser's insert of the version fails and its transaction rolls back).
      const rows = await tx.all<{ version: number }>("SELECT version FROM schema_migrations WHERE version = ?", [m.version]);
      if (rows.length > 0) return false;
      for (const statement of m.sql(db.dialect)) await tx.run(statement);
      await m.data?.(db, tx);
      await tx.run("INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)", [m.version, m.name, Date.now()]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}

export async function schemaVersion(db: SqlDriver): Promise<number> {
  const rows = await db.all<{ v: number | null }>("SELECT MAX(version) AS v FROM schema_migrations");
  return Number(rows[0]?.v ?? 0);
}
