/**
 * PostgreSQL through `pg`, for registries with several replicas: a connection pool, `?`
 * placeholders rewritten to `$n`, and transactions on one pooled client.
 */
import pg from "pg";
import type { SqlDriver, SqlSession, SqlValue } from "./sql.js";

/** `?` → `$1, $2, …` (the store's SQL has no `?` inside string literals). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

// BIGINT and NUMERIC come back as strings by default; the store's figures fit in a double.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

/** Byte arrays travel as `bytea`, which `pg` sends from a Buffer. */
const values = (params: readonly SqlValue[]) => params.map((p) => (p instanceof Uint8Array && !Buffer.isBuffer(p) ? Buffer.from(p.buffer, p.byteOffset, p.byteLength) : p));

function sessionOf(client: pg.Pool | pg.PoolClient): SqlSession {
  return {
    async all<T>(sql: string, params: readonly SqlValue[] = []) {
      return (await client.query(numbered(sql), values(params))).rows as T[];
    },
    async run(sql: string, params: readonly SqlValue[] = []) {
      return (await client.query(numbered(sql), values(params))).rowCount ?? 0;
    },
  };
}

export async function openPostgres(url: string, options: { maxConnections?: number } = {}): Promise<SqlDriver> {
  const pool = new pg.Pool({ connectionString: url, max: options.maxConnections ?? 10 });
  // An idle client's error (the server restarted) must not crash the process; the next query reconnects.
  pool.on("error", () => undefined);
  const probe = await pool.connect(); // refuse a bad URL at start, with the server's own message
  probe.release();
  return {
    dialect: "postgres",
    ...sessionOf(pool),
    async transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await fn(sessionOf(client));
        await client.query("COMMIT");
        return result;
      } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async exec(sql: string) {
      await pool.query(sql);
    },
    async close() {
      await pool.end();
    },
  };
}
