// The Presto server as an on-call engineer's client meets it: the SDK's Client over HTTP, the
// policy from crds/samples/presto.yaml, and a real Trino (tpch catalog) behind it.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { type DomainHarness, connectAs, declaredTools, serviceAccountToken, startDomainHarness, verifierToken } from "../../test/domain-fixture.js";
import { type TrinoBackend, freePort, startTrino } from "../../local/backends/harness.js";
import { PrestoClient } from "./client.js";
import { prestoConfigFromEnv } from "./config.js";
import { createPrestoServer } from "./server.js";

jest.setTimeout(300_000);

let trino: TrinoBackend;
let h: DomainHarness;
let trinoClient: PrestoClient;
const admin = { user: "toolfleet-test-admin" };

beforeAll(async () => {
  trino = await startTrino();
  trinoClient = new PrestoClient({ url: trino.url });
  h = await startDomainHarness("presto", createPrestoServer(prestoConfigFromEnv({ PRESTO_URL: trino.url, PRESTO_CATALOG: "tpch", PRESTO_SCHEMA: "tiny", PRESTO_MAX_ROWS: "500" })));
});
afterAll(async () => {
  await h?.stop();
});

const ana = () => h.idp.userToken("ana", ["ads-eng"]);
const dana = () => h.idp.userToken("dana", ["data-platform"]);

/**
 * A query that runs for minutes, started as `user` straight on the coordinator; its id once
 * it runs. Trino dispatches a statement when its client first follows nextUri, so this follows
 * it until the query runs, and then stops reading.
 */
async function startLongQuery(user: string): Promise<string> {
  const headers = { "X-Trino-User": user };
  let page = (await (await fetch(`${trino.url}/v1/statement`, { method: "POST", headers, body: "SELECT count(*) FROM tpch.sf1000.lineitem WHERE comment LIKE '%toolfleet%'" })).json()) as {
    id: string;
    nextUri?: string;
    stats: { state: string };
  };
  for (let i = 0; i < 100 && page.nextUri && page.stats.state !== "RUNNING"; i++) {
    page = (await (await fetch(page.nextUri, { headers })).json()) as typeof page;
  }
  expect(page.stats.state).toBe("RUNNING");
  return page.id;
}

describe("the Presto server's tools", () => {
  it("lists exactly the sample's tools to the operator's verifier", async () => {
    const verifier = await connectAs(h, await verifierToken(h));
    const { tools } = await verifier.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(declaredTools("presto").sort());
    expect(tools.find((t) => t.name === "run_query")!.inputSchema.properties).toHaveProperty("sql.description", expect.stringContaining("read-only"));
  });

  it("lists catalogs, schemas and tables, and describes a table", async () => {
    const c = await connectAs(h, await ana());
    const catalogs = await c.call("list_catalogs");
    expect(catalogs.structured).toEqual({ catalogs: expect.arrayContaining(["tpch", "system"]) });
    expect(catalogs.text).toContain("tpch");
    expect((await c.call("list_schemas", { catalog: "tpch" })).structured!.schemas).toEqual(expect.arrayContaining(["tiny", "sf1"]));
    const tables = await c.call("list_tables", { catalog: "tpch", schema: "tiny" });
    expect(tables.structured!.tables).toEqual(["customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"]);
    const nation = await c.call("describe_table", { catalog: "tpch", schema: "tiny", table: "nation" });
    expect(nation.isError).toBe(false);
    expect(nation.text).toMatch(/nationkey\s+\| bigint/);
    expect(nation.structured!.columns).toEqual(expect.arrayContaining([expect.objectContaining({ column: "name", type: "varchar(25)" })]));
  });

  it("runs a read-only query as the calling person: a readable table and structured rows", async () => {
    const c = await connectAs(h, await ana());
    const r = await c.call("run_query", { sql: "SELECT n.name, r.name AS region FROM nation n JOIN region r ON n.regionkey = r.regionkey WHERE n.nationkey < 3 ORDER BY n.nationkey" });
    expect(r.isError).toBe(false);
    expect(r.text.split("\n").slice(0, 5)).toEqual(["name      | region", "----------+--------", "ALGERIA   | AFRICA", "ARGENTINA | AMERICA", "BRAZIL    | AMERICA"]);
    expect(r.structured).toMatchObject({ columns: [{ name: "name", type: "varchar(25)" }, { name: "region", type: "varchar(25)" }], rows: [["ALGERIA", "AFRICA"], ["ARGENTINA", "AMERICA"], ["BRAZIL", "AMERICA"]], truncated: false, rowCount: 3 });
    const status = await trinoClient.status(r.structured!.queryId as string, admin);
    expect(status.user).toBe("ana");
    const status2 = await c.call("query_status", { queryId: r.structured!.queryId as string });
    expect(status2.text).toMatch(/: FINISHED\nuser: ana/);
  });

  it("runs a service account's query as that account", async () => {
    const bot = await connectAs(h, await serviceAccountToken(h, "agents/incident-bot"));
    const r = await bot.call("run_query", { sql: "SELECT count(*) AS n FROM region" });
    expect(r.structured!.rows).toEqual([[5]]);
    expect((await trinoClient.status(r.structured!.queryId as string, admin)).user).toBe("agents/incident-bot");
  });

  it("stops at the row limit the caller asks for, never above the server's", async () => {
    const c = await connectAs(h, await ana());
    const few = await c.call("run_query", { sql: "SELECT nationkey FROM nation ORDER BY nationkey", maxRows: 3 });
    expect(few.structured).toMatchObject({ rows: [[0], [1], [2]], truncated: true });
    expect(few.text).toContain("3 rows (cut at the limit of 3");
    const capped = await c.call("run_query", { sql: "SELECT orderkey FROM orders", maxRows: 100_000 });
    expect(capped.structured).toMatchObject({ rowCount: 500, truncated: true });
  });

  it("refuses writes and anything not plainly read-only, without sending it", async () => {
    const c = await connectAs(h, await ana());
    for (const sql of ["DELETE FROM nation", "INSERT INTO nation VALUES (1)", "SELECT 1; DROP TABLE nation", "CREATE TABLE x AS SELECT 1"]) {
      const r = await c.call("run_query", { sql });
      expect(r.isError).toBe(true);
      expect(r.text).toMatch(/^Refused \(\w+\): .*run_query runs one read-only statement/);
    }
  });

  it("explains a query without running it", async () => {
    const c = await connectAs(h, await ana());
    const r = await c.call("explain_query", { sql: "SELECT name FROM nation WHERE regionkey = 1" });
    expect(r.isError).toBe(false);
    expect(r.text).toMatch(/Fragment \d+/);
    expect(r.text).toContain("tpch:tiny:nation");
    expect((await c.call("explain_query", { sql: "DROP TABLE nation" })).isError).toBe(true);
  });

  it("names bad SQL, a missing table and an unknown query id", async () => {
    const c = await connectAs(h, await ana());
    const bad = await c.call("run_query", { sql: "SELECT nope FROM nation" });
    expect(bad).toMatchObject({ isError: true, text: expect.stringMatching(/^the query failed: COLUMN_NOT_FOUND: .*'nope' cannot be resolved \(line 1, column 8\)/) });
    expect(bad.structured!.error).toMatchObject({ kind: "query_failed", errorName: "COLUMN_NOT_FOUND", line: 1, column: 8 });
    const missing = await c.call("describe_table", { catalog: "tpch", schema: "tiny", table: "no_such_table" });
    expect(missing).toMatchObject({ isError: true, text: expect.stringContaining("no_such_table") });
    const unknown = await c.call("query_status", { queryId: "20200101_000000_00000_xxxxx" });
    expect(unknown).toMatchObject({ isError: true, text: "not found: no query with id 20200101_000000_00000_xxxxx" });
  });

  it("cancels a slow query at its timeout and says so", async () => {
    const c = await connectAs(h, await ana());
    const started = Date.now();
    const r = await c.call("run_query", { sql: "SELECT count(*) FROM tpch.sf1000.lineitem WHERE comment LIKE '%zz%'", timeoutSeconds: 2 });
    expect(r).toMatchObject({ isError: true, text: "Presto did not answer in time: the query did not finish within 2000 ms; it was cancelled" });
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe("cancel_query, confirmed by a person", () => {
  it("cancels the query after the person accepts what they were shown", async () => {
    const queryId = await startLongQuery("bob");
    const d = await connectAs(h, await dana(), "accept");
    const r = await d.call("cancel_query", { queryId });
    expect(d.asked).toHaveLength(1);
    expect(d.asked[0]).toMatch(new RegExp(`^Cancel query ${queryId} on ${trino.url}\\? It is \\w+, run by bob: SELECT count\\(\\*\\) FROM tpch.sf1000.lineitem`));
    expect(r).toMatchObject({ isError: false, text: `Cancelled query ${queryId}; it is now FAILED.`, structured: { cancelled: true, state: "FAILED" } });
    expect(await trinoClient.status(queryId, admin)).toMatchObject({ state: "FAILED", error: { errorName: "USER_CANCELED" } });
    expect(h.audit.records.at(-1)).toMatchObject({ tool: "cancel_query", outcome: "ok", elicitation: "accept", caller: { subject: "dana" } });
  });

  it("leaves the query running when the person declines", async () => {
    const queryId = await startLongQuery("bob");
    try {
      const d = await connectAs(h, await dana(), "decline");
      const r = await d.call("cancel_query", { queryId });
      expect(r).toMatchObject({ isError: true, text: "Not run: cancel_query was declined by the person asked to confirm it." });
      expect(d.asked[0]).toContain(queryId);
      expect((await trinoClient.status(queryId, admin)).state).not.toBe("FAILED");
    } finally {
      await trinoClient.cancel(queryId, admin);
    }
  });

  it("is refused to people outside data-platform, and asks nothing for a finished or unknown query", async () => {
    const a = await connectAs(h, await ana(), "accept");
    const denied = await a.call("cancel_query", { queryId: "20200101_000000_00000_xxxxx" });
    expect(denied.isError).toBe(true);
    expect(denied.text).toMatch(/^Denied: .*data-platform/);
    const d = await connectAs(h, await dana(), "accept");
    const done = (await d.call("run_query", { sql: "SELECT 1" })).structured!.queryId as string;
    expect(await d.call("cancel_query", { queryId: done })).toMatchObject({ isError: true, text: `Not run: cancel_query could not prepare the confirmation: query ${done} has already finished (FINISHED); there is nothing to cancel` });
    expect((await d.call("cancel_query", { queryId: "20200101_000000_00000_xxxxx" })).text).toBe("Not run: cancel_query could not prepare the confirmation: no query with id 20200101_000000_00000_xxxxx");
    expect(d.asked).toEqual([]);
    expect(a.asked).toEqual([]);
  });
});

describe("backend failures", () => {
  it("names an unreachable coordinator and a missing configuration, and keeps serving", async () => {
    const port = await freePort();
    const down = await startDomainHarness("presto", createPrestoServer({ client: { url: `http://127.0.0.1:${port}` }, maxRows: 10, timeoutMs: 5000 }));
    const unconfigured = await startDomainHarness("presto", createPrestoServer(() => prestoConfigFromEnv({})));
    try {
      const c = await connectAs(down, await down.idp.userToken("ana", ["ads-eng"]));
      const r = await c.call("list_catalogs");
      expect(r).toMatchObject({ isError: true, text: expect.stringMatching(new RegExp(`^Presto is unreachable: cannot reach the coordinator at http://127.0.0.1:${port}: .*ECONNREFUSED`)) });
      expect(r.structured).toEqual({ error: { kind: "unreachable", message: expect.any(String) } });
      const u = await connectAs(unconfigured, await unconfigured.idp.userToken("ana", ["ads-eng"]));
      expect(await u.call("list_catalogs")).toMatchObject({ isError: true, text: expect.stringMatching(/^Error: PRESTO_URL: required/) });
      expect((await c.call("list_catalogs")).isError).toBe(true); // still answering
    } finally {
      await down.stop();
      await unconfigured.stop();
    }
  });
});
