// A conservative read-only guard for SQL sent on a person's behalf. It does not parse SQL; it
// lexes just enough (string literals, quoted identifiers, comments, semicolons) to know what the
// single statement starts with, and refuses anything it is not sure about. The cluster's own
// access control stays the real boundary; this keeps an agent from writing by accident.

export type SqlRefusalReason =
  | "empty"
  | "multiple_statements"
  | "comment"
  | "unterminated"
  | "not_read_only"
  | "table_function";

export class SqlRefusedError extends Error {
  override readonly name = "SqlRefusedError";
  constructor(
    readonly reason: SqlRefusalReason,
    message: string,
  ) {
    super(message);
  }
}

const readOnlyStarts = new Set(["SELECT", "SHOW", "DESCRIBE", "EXPLAIN", "WITH"]);
// What EXPLAIN may wrap: only statements that are themselves read-only, since EXPLAIN ANALYZE runs them.
const explainableStarts = new Set(["SELECT", "SHOW", "DESCRIBE", "WITH", "VALUES"]);

type Token = { kind: "word"; upper: string } | { kind: "punct"; text: string } | { kind: "literal" };

function lex(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "-" && sql[i + 1] === "-") {
      throw new SqlRefusedError("comment", "comments are not allowed in a read-only query (found --)");
    } else if (c === "/" && sql[i + 1] === "*") {
      throw new SqlRefusedError("comment", "comments are not allowed in a read-only query (found /*)");
    } else if (c === "'" || c === '"') {
      // A quote is escaped by doubling it, in literals and in quoted identifiers alike.
      let j = i + 1;
      for (;;) {
        if (j >= n) throw new SqlRefusedError("unterminated", `unterminated ${c === "'" ? "string literal" : "quoted identifier"}`);
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      tokens.push({ kind: "literal" });
      i = j + 1;
    } else if (c === "`") {
      throw new SqlRefusedError("not_read_only", "backquoted identifiers are not Trino/Presto SQL");
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_@$:]/.test(sql[j]!)) j++;
      tokens.push({ kind: "word", upper: sql.slice(i, j).toUpperCase() });
      i = j;
    } else {
      tokens.push({ kind: "punct", text: c });
      i++;
    }
  }
  return tokens;
}

/**
 * Returns the statement without a trailing semicolon when it is a single read-only statement
 * (SELECT, SHOW, DESCRIBE, EXPLAIN of a read-only statement, WITH … SELECT); throws
 * SqlRefusedError naming the reason otherwise.
 */
export function assertReadOnlySql(sql: string): string {
  let tokens = lex(sql);
  let text = sql.trim();
  // One trailing semicolon is harmless; any other is a second statement.
  if (tokens.at(-1)?.kind === "punct" && (tokens.at(-1) as { text: string }).text === ";") {
    tokens = tokens.slice(0, -1);
    text = text.slice(0, text.lastIndexOf(";")).trimEnd();
  }
  if (tokens.some((t) => t.kind === "punct" && t.text === ";")) {
    throw new SqlRefusedError("multiple_statements", "only one statement may be run at a time");
  }
  const first = tokens[0];
  if (!first) throw new SqlRefusedError("empty", "the query is empty");
  if (first.kind !== "word" || !readOnlyStarts.has(first.upper)) {
    const what = first.kind === "word" ? first.upper : "a symbol";
    throw new SqlRefusedError(
      "not_read_only",
      `only SELECT, SHOW, DESCRIBE, EXPLAIN and WITH queries may be run; this one starts with ${what}`,
    );
  }
  if (first.upper === "EXPLAIN") assertExplainTarget(tokens.slice(1));
  // Table functions such as system.query(...) pass text through to the underlying database,
  // where it may write; they are refused outright.
  for (let k = 0; k + 1 < tokens.length; k++) {
    const t = tokens[k]!;
    const next = tokens[k + 1]!;
    if (t.kind === "word" && t.upper === "TABLE" && next.kind === "punct" && next.text === "(") {
      throw new SqlRefusedError("table_function", "table functions (TABLE(...)) are not allowed in a read-only query");
    }
  }
  return text;
}

function assertExplainTarget(rest: Token[]): void {
  let k = 0;
  const word = (t: Token | undefined): string | undefined => (t?.kind === "word" ? t.upper : undefined);
  while (word(rest[k]) === "ANALYZE" || word(rest[k]) === "VERBOSE") k++;
  const open = rest[k];
  if (open?.kind === "punct" && open.text === "(") {
    // EXPLAIN (TYPE ..., FORMAT ...): skip the option list.
    let depth = 0;
    for (; k < rest.length; k++) {
      const t = rest[k]!;
      if (t.kind === "punct" && t.text === "(") depth++;
      if (t.kind === "punct" && t.text === ")" && --depth === 0) break;
    }
    k++;
  }
  const target = word(rest[k]);
  if (!target || !explainableStarts.has(target)) {
    throw new SqlRefusedError(
      "not_read_only",
      `EXPLAIN may only wrap a read-only query; this one wraps ${target ?? "nothing"}`,
    );
  }
}
