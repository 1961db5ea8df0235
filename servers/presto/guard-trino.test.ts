// The read-only guard against the real Trino 476: statements that set session or catalog
// properties (`WITH SESSION … SELECT`) take effect when Trino gets them, so run_query and
// explain_query refuse them, and a counting proxy in front of Trino shows they never reach it
// (the read-only guard let them through before). `WITH … INSERT` is refused before Trino too.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { type DomainHarness, type TestClient, connectAs, startDomainHarness } from "../../test/domain-fixture.js";
import { startCountingProxy, type CountingProxy } from "../../test/counting-proxy.js";
import { type TrinoBackend, startTrino } from "../../local/backends/harness.js";
import { prestoConfigFromEnv } from "./config.js";
import { createPrestoServer } from "./server.js";

jest.setTimeout(300_000);

let trino: TrinoBackend;
let proxy: CountingProxy;
let h: DomainHarness;
let dana: TestClient;

beforeAll(async () => {
  trino = await startTrino();
  proxy = await startCountingProxy(trino.url);
  h = await startDomainHarness("presto", createPrestoServer(prestoConfigFromEnv({ PRESTO_URL: proxy.url, PRESTO_CATALOG: "tpch", PRESTO_SCHEMA: "tiny" })));
  dana = await connectAs(h, await h.idp.userToken("dana", ["data-platform"]));
});
afterAll(async () => {
  await h?.stop();
  await proxy?.stop();
});

interface Page {
  id: string;
  nextUri?: string;
  data?: unknown[][];
  error?: { message: string; errorName: string };
}

/** A statement sent straight to Trino, bypassing the guard: its id, rows and error. */
async function straightToTrino(sql: string): Promise<{ id: string; rows: unknown[][]; error?: Page["error"] }> {
  const headers = { "X-Trino-User": "toolfleet-guard-test", "X-Trino-Catalog": "tpch", "X-Trino-Schema": "tiny" };
  let page = (await (await fetch(`${trino.url}/v1/statement`, { method: "POST", headers, body: sql })).json()) as Page;
  const rows: unknown[][] = [...(page.data ?? [])];
  while (page.nextUri) {
    page = (await (await fetch(page.nextUri, { headers })).json()) as Page;
    rows.push(...(page.data ?? []));
  }
  return { id: page.id, rows, ...(page.error ? { error: page.error } : {}) };
}

/** The session Trino ran a query with. */
async function sessionOf(queryId: string): Promise<{ systemProperties: Record<string, string> }> {
  const info = (await (await fetch(`${trino.url}/v1/query/${queryId}`, { headers: { "X-Trino-User": "toolfleet-guard-test" } })).json()) as {
    session: { systemProperties: Record<string, string> };
  };
  return info.session;
}

// The local Trino's tpch catalog has no session properties of its own; `catalog.name = value`
// is the same clause, refused by the same rule (sql-guard.test.ts).
const SESSION_QUERY = "WITH SESSION query_max_run_time = '17m', join_distribution_type = 'BROADCAST' SELECT count(*) FROM nation";

describe("session and catalog properties", () => {
  it("take effect when Trino gets WITH SESSION … SELECT", async () => {
    const direct = await straightToTrino(SESSION_QUERY);
    expect(direct.error).toBeUndefined();
    expect(direct.rows).toEqual([[25]]);
    const session = await sessionOf(direct.id);
    expect(session.systemProperties).toEqual({ query_max_run_time: "17m", join_distribution_type: "BROADCAST" });
  });

  it.each([
    ["run_query", SESSION_QUERY],
    ["run_query", "with session query_max_run_time = '17m' select 1"],
    ["run_query", "EXPLAIN ANALYZE WITH SESSION query_max_run_time = '17m' SELECT 1"],
    ["run_query", "SET SESSION query_max_run_time = '17m'"],
    ["run_query", "RESET SESSION query_max_run_time"],
    ["run_query", "USE tpch.sf1"],
    ["explain_query", SESSION_QUERY],
  ])("%s refuses %j before it reaches Trino", async (tool, sql) => {
    const before = proxy.seen.length;
    const r = await dana.call(tool, { sql });
    expect(r).toMatchObject({ isError: true, text: expect.stringMatching(/^Refused \(session_properties\): /) });
    expect(proxy.seen.slice(before)).toEqual([]);
  });
});

describe("anything that is not a pure read", () => {
  it("Trino 476's own grammar has no WITH … INSERT (other engines run it): refused before, whatever the engine", async () => {
    const direct = await straightToTrino("WITH a AS (SELECT 1 AS x) INSERT INTO nation SELECT * FROM nation");
    expect(direct.error?.message).toMatch(/mismatched input 'INSERT'/);
  });

  it.each([
    "WITH a AS (SELECT 1 AS x) INSERT INTO nation SELECT * FROM nation",
    "WITH a AS (SELECT 1 AS x) DELETE FROM nation",
    "WITH a AS (SELECT 1 AS x) (INSERT INTO nation SELECT * FROM nation)",
    "WITH FUNCTION f() RETURNS bigint RETURN 1 SELECT f()",
    "CREATE TABLE t AS SELECT 1 AS x",
  ])("run_query refuses %j before it reaches Trino", async (sql) => {
    const before = proxy.seen.length;
    const r = await dana.call("run_query", { sql });
    expect(r).toMatchObject({ isError: true, text: expect.stringMatching(/^Refused \(not_read_only\): /) });
    expect(proxy.seen.slice(before)).toEqual([]);
  });

  it("plain reads, WITH named queries among them, still reach Trino and answer", async () => {
    const before = proxy.seen.length;
    const r = await dana.call("run_query", { sql: "WITH big AS (SELECT name FROM nation WHERE nationkey > 20) SELECT count(*) AS n FROM big" });
    expect(r.isError).toBe(false);
    expect(r.structured).toMatchObject({ rows: [[4]] });
    expect(proxy.seen.slice(before).some((s) => s.startsWith("POST /v1/statement"))).toBe(true);
  });
});
