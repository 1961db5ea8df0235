// How Presto answers and failures read in a tool result: a text table for people, columns
// and rows for programs, and every failure named by its cause.
import type { CallToolResult } from "@modelcontextprotocol/server";
import { errorResult, textResult, textTable } from "../kit/index.js";
import type { QueryResult, QueryStatus } from "./client.js";
import { PrestoError, type PrestoErrorKind } from "./errors.js";
import { SqlRefusedError } from "./sql-guard.js";

export function queryResult(result: QueryResult, maxRows: number): CallToolResult {
  const header = result.columns.map((c) => c.name);
  const rowCount = `${result.rows.length} row${result.rows.length === 1 ? "" : "s"}${result.truncated ? ` (cut at the limit of ${maxRows}; ask for fewer columns or add a WHERE/LIMIT)` : ""}`;
  const text = [textTable(header, result.rows), "", `${rowCount}; query ${result.queryId}, ${result.elapsedMs} ms, ${result.processedRows} rows processed`].join("\n");
  return textResult(text, {
    queryId: result.queryId,
    columns: result.columns,
    rows: result.rows,
    rowCount: result.rows.length,
    truncated: result.truncated,
    elapsedMs: result.elapsedMs,
    processedRows: result.processedRows,
  });
}

export function statusResult(s: QueryStatus): CallToolResult {
  const lines = [
    `query ${s.queryId}: ${s.state}`,
    `user: ${s.user}`,
    ...(s.elapsedMs !== undefined ? [`elapsed: ${Math.round(s.elapsedMs)} ms`] : []),
    ...(s.error ? [`error: ${s.error.errorName ?? ""}${s.error.errorName ? ": " : ""}${s.error.message}`] : []),
    `sql: ${s.query}`,
  ];
  return textResult(lines.join("\n"), { ...s });
}

const KIND: Record<PrestoErrorKind, string> = {
  query_failed: "the query failed",
  unreachable: "Presto is unreachable",
  timeout: "Presto did not answer in time",
  auth: "Presto refused the credentials",
  not_found: "not found",
  protocol: "Presto answered something unexpected",
};

/** A Presto failure or a refused statement as a tool error; anything else is not ours to explain. */
export function prestoFailure(err: unknown): CallToolResult {
  if (err instanceof SqlRefusedError) {
    return errorResult(`Refused (${err.reason}): ${err.message}. run_query runs one read-only statement: SELECT, SHOW, DESCRIBE, EXPLAIN or WITH.`, {
      error: { kind: "refused", reason: err.reason, message: err.message },
    });
  }
  if (err instanceof PrestoError) {
    return errorResult(`${KIND[err.kind]}: ${err.message}`, { error: { kind: err.kind, message: err.message, ...err.detail } });
  }
  throw err;
}
