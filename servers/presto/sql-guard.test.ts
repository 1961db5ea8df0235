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
    ["SET SESSION query_max_run_time = '1h'", "not_read_only"],
    ["(SELECT 1)", "not_read_only"],
    ["EXPLAIN ANALYZE INSERT INTO t SELECT 1", "not_read_only"],
    ["EXPLAIN (TYPE IO) DELETE FROM t", "not_read_only"],
    ["SELECT 1 -- trailing", "comment"],
    ["/* x */ DELETE FROM t", "comment"],
    ["SELECT 1 /* ; DROP TABLE t */", "comment"],
    ["SELECT 'unterminated", "unterminated"],
    ["SELECT * FROM TABLE(pg.system.query(query => 'DELETE FROM t'))", "table_function"],
  ])("refuses %j as %s", (sql, reason) => {
    expect(refused(sql)).toBe(reason);
  });

  it("drops one trailing semicolon", () => {
    expect(assertReadOnlySql("SELECT 1 ;  ")).toBe("SELECT 1");
  });
});
