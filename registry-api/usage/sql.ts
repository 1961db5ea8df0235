/**
 * The little the usage store needs of a SQL database, so one store runs on both: queries with
 * `?` placeholders, the number of rows a statement changed, and a transaction. `sqlite.ts` and
 * `postgres.ts` are the two drivers.
 */
export type SqlValue = string | number | null | Uint8Array;

export interface SqlSession {
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Rows the statement inserted, updated or deleted. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export interface SqlDriver extends SqlSession {
  readonly dialect: "sqlite" | "postgres";
  /** Runs `fn` in one transaction: all of it or none of it. */
  transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T>;
  /** Several statements at once (migrations). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}
