import { describe, expect, it } from "@jest/globals";
import { SqlRefusedError, assertReadOnlySql } from "./sql-guard.js";

const refused = (sql: string) => {
  try {
    assertReadOnlySql(sql);
  } catch (e) {
    if (e instanceof SqlRefusedError) return e.reason;
    throw e;
  }
  return "accepted";
};

describe("assertReadOnlySql", () => {
  it.each([
    "SELECT 1",
    "select * from tpch.tiny.nation;",
    "  WITH t AS (SELECT 1 AS x) SELECT x FROM t",
    "SHOW CATALOGS",
    "DESCRIBE tpch.tiny.nation",
    "EXPLAIN SELECT 1",
    "EXPLAIN (TYPE DISTRIBUTED, FORMAT TEXT) SELECT 1",
    "EXPLAIN ANALYZE SELECT 1",
    "SELECT 'a; DROP TABLE x; -- not code' AS s",
    `SELECT "weird;--name" FROM t`,
    "SELECT comment FROM tpch.tiny.orders",
    "WITH RECURSIVE t(n) AS (VALUES (1) UNION ALL SELECT n + 1 FROM t WHERE n < 3) SELECT n FROM t",
    "WITH a AS (SELECT 1 AS x), \"b c\" AS (WITH d AS (SELECT 2 AS y) SELECT y FROM d) SELECT * FROM a, \"b c\"",
    "WITH a AS (SELECT 1 AS x) (SELECT x FROM a)",
    "WITH a AS (SELECT 1 AS x) VALUES 1",
    "EXPLAIN ANALYZE WITH a AS (SELECT 1 AS x) SELECT x FROM a",
    "SELECT session, catalog FROM t WHERE \"set\" = 'WITH SESSION x = 1'",
  ])("accepts %s", (sql) => {
    expect(refused(sql)).toBe("accepted");
  });

  it.each([
    ["", "empty"],
    [";", "empty"],
    ["SELECT 1; DROP TABLE t", "multiple_statements"],
    ["SELECT 1;;", "multiple_statements"],
    ["DROP TABLE t", "not_read_only"],
    ["INSERT INTO t SELECT 1", "not_read_only"],
    ["CALL system.runtime.kill_query('x')", "not_read_only"],
    ["(SELECT 1)", "not_read_only"],
    ["EXPLAIN ANALYZE INSERT INTO t SELECT 1", "not_read_only"],
    ["EXPLAIN (TYPE IO) DELETE FROM t", "not_read_only"],
    ["SELECT 1 -- trailing", "comment"],
    ["/* x */ DELETE FROM t", "comment"],
    ["SELECT 1 /* ; DROP TABLE t */", "comment"],
    ["SELECT 'unterminated", "unterminated"],
    ["SELECT * FROM TABLE(pg.system.query(query => 'DELETE FROM t'))", "table_function"],
    // Session and catalog properties: for this query (Trino's WITH SESSION) or the session.
    ["WITH SESSION query_max_run_time = '1h' SELECT 1", "session_properties"],
    ["with session tpch.splits_per_node = 1 select count(*) from tpch.tiny.nation", "session_properties"],
    ["EXPLAIN ANALYZE WITH SESSION query_max_run_time = '1h' SELECT 1", "session_properties"],
    ["EXPLAIN (TYPE IO) WITH SESSION query_max_run_time = '1h' SELECT 1", "session_properties"],
    ["SET SESSION query_max_run_time = '1h'", "session_properties"],
    ["RESET SESSION query_max_run_time", "session_properties"],
    ["SET ROLE admin", "session_properties"],
    ["SET PATH tpch.tiny", "session_properties"],
    ["SET TIME ZONE 'UTC'", "session_properties"],
    ["USE tpch.tiny", "session_properties"],
    ["CREATE CATALOG x USING memory", "not_read_only"],
    ["ALTER TABLE t SET PROPERTIES x = 1", "not_read_only"],
    // Anything after WITH that is not a query, and named queries that are not queries.
    ["WITH a AS (SELECT 1 AS x) INSERT INTO t SELECT x FROM a", "not_read_only"],
    ["WITH a AS (SELECT 1 AS x) DELETE FROM t", "not_read_only"],
    ["WITH a AS (SELECT 1 AS x), b AS (SELECT 2) UPDATE t SET x = 1", "not_read_only"],
    ["WITH a AS (SELECT 1 AS x) (INSERT INTO t SELECT 1)", "not_read_only"],
    ["WITH a AS (INSERT INTO t SELECT 1) SELECT 1", "not_read_only"],
    ["WITH a AS (WITH SESSION x = 1 SELECT 1) SELECT 1", "session_properties"],
    ["WITH FUNCTION f() RETURNS int RETURN 1 SELECT f()", "not_read_only"],
    ["WITH a SELECT 1", "not_read_only"],
    ["WITH a AS (SELECT 1", "not_read_only"],
    ["WITH", "not_read_only"],
    ["EXPLAIN ANALYZE WITH a AS (SELECT 1) INSERT INTO t SELECT 1", "not_read_only"],
  ])("refuses %j as %s", (sql, reason) => {
    expect(refused(sql)).toBe(reason);
  });

  it("drops one trailing semicolon", () => {
    expect(assertReadOnlySql("SELECT 1 ;  ")).toBe("SELECT 1");
  });
});
