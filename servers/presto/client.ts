// A client for the Presto/Trino HTTP client protocol: POST /v1/statement, then follow nextUri
// until the statement finishes, collecting columns and rows. Every request carries the calling
// person as the query user, so the cluster's own access control and audit see who asked.
import { z } from "zod";
import { transportFailure, withDeadline } from "../kit/index.js";
import { PrestoError } from "./errors.js";
import { assertReadOnlySql } from "./sql-guard.js";

export { PrestoError } from "./errors.js";
export type { PrestoErrorKind } from "./errors.js";

export type PrestoDialect = "trino" | "presto";

export interface PrestoClientOptions {
  /** The coordinator's base URL, e.g. http://trino.example:8080. */
  url: string;
  /** Which header prefix the cluster speaks: X-Trino-* (default) or X-Presto-*. */
  dialect?: PrestoDialect;
  /** Sent as the Source header, so the cluster can tell these queries apart. */
  source?: string;
  catalog?: string;
  schema?: string;
  /** Default wall-clock limit for a whole statement, in ms. */
  timeoutMs?: number;
  /** Default row limit for run/query. */
  maxRows?: number;
  /** Extra headers on every request, e.g. Authorization for a secured coordinator. */
  headers?: Record<string, string>;
}

export interface QueryOptions {
  /** The person (or service) the query runs as. */
  user: string;
  catalog?: string;
  schema?: string;
  /** Stop fetching (and cancel the query) once this many rows have arrived. */
  maxRows?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface Column {
  name: string;
  type: string;
}

export interface QueryResult {
  queryId: string;
  columns: Column[];
  rows: unknown[][];
  /** True when maxRows cut the result short (the query was then cancelled). */
  truncated: boolean;
  state: string;
  elapsedMs: number;
  processedRows: number;
  infoUri?: string;
}

export interface QueryStatus {
  queryId: string;
  state: string;
  user: string;
  query: string;
  elapsedMs?: number;
  error?: { message: string; errorName?: string; errorType?: string };
}

const errorSchema = z.object({
  message: z.string(),
  errorCode: z.number().optional(),
  errorName: z.string().optional(),
  errorType: z.string().optional(),
  errorLocation: z.object({ lineNumber: z.number(), columnNumber: z.number() }).optional(),
});
const statementSchema = z.object({
  id: z.string(),
  infoUri: z.string().optional(),
  nextUri: z.string().optional(),
  columns: z.array(z.object({ name: z.string(), type: z.string() })).optional(),
  data: z.array(z.array(z.unknown())).optional(),
  stats: z.object({ state: z.string(), elapsedTimeMillis: z.number().optional(), processedRows: z.number().optional() }),
  error: errorSchema.optional(),
});
const queryInfoSchema = z.object({
  queryId: z.string(),
  state: z.string(),
  query: z.string(),
  session: z.object({ user: z.string() }),
  queryStats: z.object({ elapsedTime: z.string().optional() }).optional(),
  errorCode: z.object({ name: z.string(), type: z.string() }).optional().nullable(),
  failureInfo: z.object({ message: z.string().optional().nullable() }).optional().nullable(),
});

// Trino reports durations as airlift Duration strings: "1.23s", "850.00ms", "2.00m".
function durationMs(d: string | undefined): number | undefined {
  const m = d ? /^([\d.]+)(ns|us|ms|s|m|h|d)$/.exec(d) : null;
  if (!m) return undefined;
  const scale: Record<string, number> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 };
  return Number(m[1]) * scale[m[2]!]!;
}

const retryable = new Set([429, 502, 503, 504]);

export class PrestoClient {
  private readonly base: string;
  private readonly prefix: string;

  constructor(private readonly options: PrestoClientOptions) {
    this.base = options.url.replace(/\/+$/, "");
    this.prefix = options.dialect === "presto" ? "X-Presto-" : "X-Trino-";
  }

  /** Runs a read-only statement (see assertReadOnlySql); throws SqlRefusedError before sending anything else. */
  async runReadOnly(sql: string, opts: QueryOptions): Promise<QueryResult> {
    return this.query(assertReadOnlySql(sql), opts);
  }

  /** Runs any statement and collects its result, up to maxRows. */
  async query(sql: string, opts: QueryOptions): Promise<QueryResult> {
    const timeoutMs = opts.timeoutMs ?? this.options.timeoutMs ?? 60_000;
    const maxRows = opts.maxRows ?? this.options.maxRows ?? 10_000;
    const signal = withDeadline(timeoutMs, opts.signal);
    const headers = this.headers(opts);

    let page = await this.send("POST", `${this.base}/v1/statement`, headers, signal, sql, timeoutMs);
    const columns: Column[] = [];
    const rows: unknown[][] = [];
    let truncated = false;
    for (;;) {
      if (page.error) throw queryFailed(page.id, page.error);
      if (page.columns && !columns.length) columns.push(...page.columns);
      for (const row of page.data ?? []) {
        if (rows.length >= maxRows) {
          truncated = true;
          break;
        }
        rows.push(row);
      }
      if (!page.nextUri) break;
      if (truncated) {
        // A row past the limit arrived: tell the coordinator to stop rather than fetch what nobody reads.
        await this.abandon(page.nextUri, headers);
        break;
      }
      const next = page.nextUri;
      const queryId = page.id;
      try {
        page = await this.send("GET", next, headers, signal, undefined, timeoutMs);
      } catch (e) {
        if (e instanceof PrestoError && e.kind === "timeout") await this.abandon(next, headers);
        if (e instanceof PrestoError) e.detail.queryId ??= queryId;
        throw e;
      }
    }
    return {
      queryId: page.id,
      columns,
      rows,
      truncated,
      state: page.stats.state,
      elapsedMs: page.stats.elapsedTimeMillis ?? 0,
      processedRows: page.stats.processedRows ?? 0,
      ...(page.infoUri ? { infoUri: page.infoUri } : {}),
    };
  }

  /** Cancels a running query by id. Resolves false when it had already finished. */
  async cancel(queryId: string, opts: { user: string; signal?: AbortSignal }): Promise<boolean> {
    const res = await this.request("DELETE", `${this.base}/v1/query/${encodeURIComponent(queryId)}`, this.headers(opts), opts.signal ?? AbortSignal.timeout(10_000));
    if (res.status === 404) throw new PrestoError("not_found", `no query with id ${queryId}`, { queryId, status: 404 });
    this.assertAuthorized(res, queryId);
    if (!res.ok) throw new PrestoError("protocol", `cancelling ${queryId} answered HTTP ${res.status}`, { queryId, status: res.status });
    const status = await this.status(queryId, opts);
    return status.state === "FAILED" && status.error?.errorName === "USER_CANCELED";
  }

  /** The state of a query by id (GET /v1/query/{id}). */
  async status(queryId: string, opts: { user: string; signal?: AbortSignal }): Promise<QueryStatus> {
    const res = await this.request("GET", `${this.base}/v1/query/${encodeURIComponent(queryId)}`, this.headers(opts), opts.signal ?? AbortSignal.timeout(10_000));
    if (res.status === 404 || res.status === 410) throw new PrestoError("not_found", `no query with id ${queryId}`, { queryId, status: res.status });
    this.assertAuthorized(res, queryId);
    if (!res.ok) throw new PrestoError("protocol", `query status for ${queryId} answered HTTP ${res.status}`, { queryId, status: res.status });
    const info = parse(queryInfoSchema, await res.json(), "query info");
    const elapsed = durationMs(info.queryStats?.elapsedTime);
    const message = info.failureInfo?.message;
    return {
      queryId: info.queryId,
      state: info.state,
      user: info.session.user,
      query: info.query,
      ...(elapsed !== undefined ? { elapsedMs: elapsed } : {}),
      ...(info.errorCode ? { error: { message: message ?? info.errorCode.name, errorName: info.errorCode.name, errorType: info.errorCode.type } } : {}),
    };
  }

  async listCatalogs(opts: QueryOptions): Promise<string[]> {
    return (await this.query("SHOW CATALOGS", opts)).rows.map((r) => String(r[0]));
  }

  async listSchemas(catalog: string, opts: QueryOptions): Promise<string[]> {
    return (await this.query(`SHOW SCHEMAS FROM ${quoteIdent(catalog)}`, opts)).rows.map((r) => String(r[0]));
  }

  async listTables(catalog: string, schema: string, opts: QueryOptions): Promise<string[]> {
    return (await this.query(`SHOW TABLES FROM ${quoteIdent(catalog)}.${quoteIdent(schema)}`, opts)).rows.map((r) => String(r[0]));
  }

  async describeTable(catalog: string, schema: string, table: string, opts: QueryOptions): Promise<{ column: string; type: string; extra: string; comment: string }[]> {
    const res = await this.query(`DESCRIBE ${quoteIdent(catalog)}.${quoteIdent(schema)}.${quoteIdent(table)}`, opts);
    return res.rows.map((r) => ({ column: String(r[0]), type: String(r[1]), extra: String(r[2] ?? ""), comment: String(r[3] ?? "") }));
  }

  /** The distributed plan of a read-only query, as text. */
  async explain(sql: string, opts: QueryOptions): Promise<string> {
    const inner = assertReadOnlySql(sql);
    const res = await this.query(`EXPLAIN ${inner}`, { ...opts, maxRows: Number.MAX_SAFE_INTEGER });
    return res.rows.map((r) => String(r[0])).join("\n");
  }

  private headers(opts: { user: string; catalog?: string; schema?: string }): Record<string, string> {
    const h: Record<string, string> = { ...this.options.headers, [`${this.prefix}User`]: opts.user, [`${this.prefix}Source`]: this.options.source ?? "toolfleet" };
    const catalog = opts.catalog ?? this.options.catalog;
    const schema = opts.schema ?? this.options.schema;
    if (catalog) h[`${this.prefix}Catalog`] = catalog;
    if (schema) h[`${this.prefix}Schema`] = schema;
    return h;
  }

  // One protocol step, retried while the coordinator says it is busy (429/502/503/504).
  private async send(method: "POST" | "GET", url: string, headers: Record<string, string>, signal: AbortSignal, body: string | undefined, timeoutMs: number): Promise<z.infer<typeof statementSchema>> {
    for (let attempt = 0; ; attempt++) {
      const res = await this.request(method, url, headers, signal, body, timeoutMs);
      if (retryable.has(res.status) && attempt < 10) {
        await res.body?.cancel();
        await abortableSleep(Math.min(100 * 2 ** attempt, 2000), signal, timeoutMs);
        continue;
      }
      this.assertAuthorized(res);
      if (!res.ok) {
        const text = await res.text().catch(() => "");
        throw new PrestoError("protocol", `${method} ${new URL(url).pathname} answered HTTP ${res.status}: ${text.slice(0, 300)}`, { status: res.status });
      }
      let json: unknown;
      try {
        json = await res.json();
      } catch (e) {
        throw transportError(e, this.base, timeoutMs, signal);
      }
      return parse(statementSchema, json, "statement response");
    }
  }

  private async request(method: string, url: string, headers: Record<string, string>, signal: AbortSignal, body?: string, timeoutMs?: number): Promise<Response> {
    try {
      return await fetch(url, { method, headers, signal, ...(body !== undefined ? { body } : {}) });
    } catch (e) {
      throw transportError(e, this.base, timeoutMs, signal);
    }
  }

  private assertAuthorized(res: Response, queryId?: string): void {
    if (res.status === 401 || res.status === 403) {
      throw new PrestoError("auth", `the coordinator refused the request (HTTP ${res.status}): check the user and credentials`, { status: res.status, ...(queryId ? { queryId } : {}) });
    }
  }

  // Best effort: the caller is already on its way out with a result or an error.
  private async abandon(nextUri: string, headers: Record<string, string>): Promise<void> {
    try {
      const res = await fetch(nextUri, { method: "DELETE", headers, signal: AbortSignal.timeout(5000) });
      await res.body?.cancel();
    } catch {
      /* the query will time out on the coordinator by itself */
    }
  }
}

/** Quotes an identifier for Trino/Presto SQL ("a""b"). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function queryFailed(queryId: string, error: z.infer<typeof errorSchema>): PrestoError {
  const where = error.errorLocation ? ` (line ${error.errorLocation.lineNumber}, column ${error.errorLocation.columnNumber})` : "";
  return new PrestoError("query_failed", `${error.errorName ?? "query failed"}: ${error.message}${where}`, {
    queryId,
    ...(error.errorName ? { errorName: error.errorName } : {}),
    ...(error.errorType ? { errorType: error.errorType } : {}),
    ...(error.errorCode !== undefined ? { errorCode: error.errorCode } : {}),
    ...(error.errorLocation ? { line: error.errorLocation.lineNumber, column: error.errorLocation.columnNumber } : {}),
  });
}

function transportError(e: unknown, base: string, timeoutMs: number | undefined, signal?: AbortSignal): PrestoError {
  const failure = transportFailure(e, signal);
  if (failure === "timeout") return new PrestoError("timeout", `the query did not finish within ${timeoutMs ?? "the allowed"} ms; it was cancelled`, {}, { cause: e });
  if (failure === "aborted") return new PrestoError("timeout", "the query was aborted by the caller; it was cancelled", {}, { cause: e });
  const cause = errorMessage((e as { cause?: unknown } | undefined)?.cause) || errorMessage(e);
  return new PrestoError("unreachable", `cannot reach the coordinator at ${base}: ${cause}`, {}, { cause: e });
}

// Unlike connectionFailure(), both the code and the message, e.g. "ECONNREFUSED connect ECONNREFUSED 127.0.0.1:8080".
function errorMessage(e: unknown): string {
  if (typeof e === "object" && e !== null) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    return [code, message].filter((x) => typeof x === "string").join(" ");
  }
  return e === undefined ? "" : String(e);
}

async function abortableSleep(ms: number, signal: AbortSignal, timeoutMs: number): Promise<void> {
  if (signal.aborted) throw transportError(signal.reason, "", timeoutMs, signal);
  await new Promise((r) => setTimeout(r, ms));
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new PrestoError("protocol", `unexpected ${what} from the coordinator: ${r.error.issues[0]?.message ?? "invalid"}`);
  return r.data;
}
