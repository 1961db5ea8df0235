// A conservative read-only guard for SQL sent on a person's behalf. It does not parse SQL; it
// lexes just enough (string literals, quoted identifiers, comments, semicolons) to know what the
// single statement is made of, and refuses anything it is not sure about. The cluster's own
// access control stays the real boundary; this keeps an agent from writing by accident, and
// from changing how the cluster runs its queries: statements that set session or catalog
// properties, including Trino's `WITH SESSION name = value SELECT …`, are refused as well.

export type SqlRefusalReason =
  | "empty"
  | "multiple_statements"
  | "comment"
  | "unterminated"
  | "not_read_only"
  | "session_properties"
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
// What a query (the body of EXPLAIN, of a WITH's named queries, after a WITH) may start with.
const queryStarts = new Set(["SELECT", "WITH", "VALUES"]);
// Statements that change the session or a catalog rather than read: named apart, so the refusal says so.
const sessionStatements = new Set(["SET", "RESET", "USE"]);

type Token = { kind: "word"; upper: string } | { kind: "punct"; text: string } | { kind: "literal" } | { kind: "quoted" };

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
      tokens.push(c === "'" ? { kind: "literal" } : { kind: "quoted" });
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

const word = (t: Token | undefined): string | undefined => (t?.kind === "word" ? t.upper : undefined);
const isPunct = (t: Token | undefined, text: string): boolean => t?.kind === "punct" && t.text === text;
const describe = (t: Token | undefined): string => (t === undefined ? "nothing" : t.kind === "word" ? t.upper : t.kind === "punct" ? t.text : "a quoted name or literal");

/**
 * Returns the statement without a trailing semicolon when it is a single read-only statement
 * (SELECT, SHOW, DESCRIBE, EXPLAIN of a query, WITH named queries followed by a query); throws
 * SqlRefusedError naming the reason otherwise.
 */
export function assertReadOnlySql(sql: string): string {
  let tokens = lex(sql);
  let text = sql.trim();
  // One trailing semicolon is harmless; any other is a second statement.
  if (isPunct(tokens.at(-1), ";")) {
    tokens = tokens.slice(0, -1);
    text = text.slice(0, text.lastIndexOf(";")).trimEnd();
  }
  if (tokens.some((t) => isPunct(t, ";"))) {
    throw new SqlRefusedError("multiple_statements", "only one statement may be run at a time");
  }
  const first = tokens[0];
  if (!first) throw new SqlRefusedError("empty", "the query is empty");
  const start = word(first);
  if (start !== undefined && sessionStatements.has(start)) {
    throw new SqlRefusedError("session_properties", `${start} changes the session (properties, role, path, catalog or schema); only queries may be run`);
  }
  if (start === undefined || !readOnlyStarts.has(start)) {
    throw new SqlRefusedError("not_read_only", `only SELECT, SHOW, DESCRIBE, EXPLAIN and WITH queries may be run; this one starts with ${start ?? "a symbol"}`);
  }
  if (start === "EXPLAIN") assertQuery(tokens, explainTarget(tokens, 1), "EXPLAIN may only wrap a read-only query");
  else if (start === "WITH") assertQuery(tokens, 0, "");
  // Table functions such as system.query(...) pass text through to the underlying database,
  // where it may write; they are refused outright.
  for (let k = 0; k + 1 < tokens.length; k++) {
    if (word(tokens[k]) === "TABLE" && isPunct(tokens[k + 1], "(")) {
      throw new SqlRefusedError("table_function", "table functions (TABLE(...)) are not allowed in a read-only query");
    }
  }
  return text;
}

/** Where EXPLAIN's statement starts: after ANALYZE, VERBOSE and an option list. */
function explainTarget(tokens: Token[], k: number): number {
  while (word(tokens[k]) === "ANALYZE" || word(tokens[k]) === "VERBOSE") k++;
  return isPunct(tokens[k], "(") ? closing(tokens, k) + 1 : k;
}

/** The index of the parenthesis closing the one at `open`. */
function closing(tokens: Token[], open: number): number {
  let depth = 0;
  for (let k = open; k < tokens.length; k++) {
    if (isPunct(tokens[k], "(")) depth++;
    else if (isPunct(tokens[k], ")") && --depth === 0) return k;
  }
  throw new SqlRefusedError("not_read_only", "unbalanced parentheses");
}

/**
 * A query starting at `k`: SELECT, VALUES, a parenthesised query, or WITH named queries, each
 * itself a query, followed by one. `WITH SESSION` (session and catalog properties for this
 * query) and `WITH FUNCTION` (inline routines) are refused, as is anything after a WITH that is
 * not a query (Trino refuses `WITH … INSERT`, other engines run it).
 */
function assertQuery(tokens: Token[], k: number, context: string): void {
  const refuse = (what: string) => new SqlRefusedError("not_read_only", context ? `${context}; this one wraps ${what}` : what);
  while (isPunct(tokens[k], "(")) k++;
  const start = word(tokens[k]);
  if (start === undefined || !queryStarts.has(start)) throw refuse(describe(tokens[k]));
  if (start !== "WITH") return;
  k++;
  const next = word(tokens[k]);
  if (next === "SESSION") throw new SqlRefusedError("session_properties", "WITH SESSION sets session or catalog properties; only a plain query may be run");
  if (next === "FUNCTION") throw new SqlRefusedError("not_read_only", "WITH FUNCTION (inline routines) is not allowed in a read-only query");
  if (next === "RECURSIVE") k++;
  for (;;) {
    // name [(columns)] AS ( query )
    const name = tokens[k];
    if (name?.kind !== "word" && name?.kind !== "quoted") throw refuse(`WITH followed by ${describe(name)} where a query name belongs`);
    k++;
    if (isPunct(tokens[k], "(")) k = closing(tokens, k) + 1;
    if (word(tokens[k]) !== "AS" || !isPunct(tokens[k + 1], "(")) throw refuse(`a named query without AS ( … ): found ${describe(tokens[k])}`);
    const end = closing(tokens, k + 1);
    assertQuery(tokens.slice(0, end), k + 2, "a WITH's named query must be a read-only query");
    k = end + 1;
    if (!isPunct(tokens[k], ",")) break;
    k++;
  }
  while (isPunct(tokens[k], "(")) k++;
  const body = word(tokens[k]);
  if (body !== "SELECT" && body !== "VALUES") {
    throw new SqlRefusedError("not_read_only", `WITH must be followed by a query (SELECT or VALUES); this one continues with ${describe(tokens[k])}`);
  }
}
