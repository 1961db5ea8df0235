/**
 * The embedded default: SQLite through Node's built-in `node:sqlite`, in WAL mode. Statements
 * are synchronous, so a transaction never interleaves with another in this process; one
 * registry replica owns the file (PostgreSQL is for several).
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { SqlDriver, SqlSession, SqlValue } from "./sql.js";

export function openSqlite(file: string): SqlDriver {
  if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
  const db = new DatabaseSync(file);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;");
  const statements = new Map<string, StatementSync>();
  const prepare = (sql: string): StatementSync => {
    let s = statements.get(sql);
    if (!s) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };
  const session: SqlSession = {
    async all<T>(sql: string, params: readonly SqlValue[] = []) {
      return prepare(sql).all(...params) as T[];
    },
    async run(sql: string, params: readonly SqlValue[] = []) {
      return Number(prepare(sql).run(...params).changes);
    },
  };
  let queue: Promise<unknown> = Promise.resolve();
  return {
    dialect: "sqlite",
    ...session,
    async transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T> {
      // One connection: transactions take turns, so two requests never share one.
      const turn = queue.then(async () => {
        db.exec("BEGIN IMMEDIATE");
        try {
          const result = await fn(session);
          db.exec("COMMIT");
          return result;
        } catch (err) {
          db.exec("ROLLBACK");
          throw err;
        }
      });
      queue = turn.catch(() => undefined);
      return turn;
    },
    async exec(sql: string) {
      db.exec(sql);
    },
    async close() {
      statements.clear();
      db.close();
    },
  };
}
