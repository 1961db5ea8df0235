// Against a real Trino coordinator with the tpch catalog, started (or reused) by the backends harness.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { type TrinoBackend, freePort, startTrino } from "../../local/backends/harness.js";
import { PrestoClient, PrestoError } from "./client.js";
import { SqlRefusedError } from "./sql-guard.js";
import { waitFor } from "../../local/wait-for.js";

jest.setTimeout(300_000);

let trino: TrinoBackend;
let client: PrestoClient;
const as = { user: "ana" };

beforeAll(async () => {
  trino = await startTrino();
  client = new PrestoClient({ url: trino.url, catalog: "tpch", schema: "tiny", timeoutMs: 60_000 });
});
afterAll(() => undefined); // the coordinator stays up for the next run; `harness.ts down` stops it

async function failure(p: Promise<unknown>): Promise<PrestoError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof PrestoError) return e;
    throw e;
  }
  throw new Error("expected a PrestoError");
}

describe("PrestoClient against Trino", () => {
  it("runs a query and returns typed columns and rows, as the calling user", async () => {
    const res = await client.runReadOnly("SELECT n.name, r.name AS region FROM nation n JOIN region r ON n.regionkey = r.regionkey WHERE n.nationkey < 3 ORDER BY n.nationkey", as);
    expect(res.columns).toEqual([
      { name: "name", type: "varchar(25)" },
      { name: "region", type: "varchar(25)" },
    ]);
    expect(res.rows).toEqual([
      ["ALGERIA", "AFRICA"],
      ["ARGENTINA", "AMERICA"],
      ["BRAZIL", "AMERICA"],
    ]);
    expect(res.state).toBe("FINISHED");
    expect(res.truncated).toBe(false);
    const status = await client.status(res.queryId, as);
    expect(status).toMatchObject({ queryId: res.queryId, state: "FINISHED", user: "ana" });
  });

  it("stops at the row limit and cancels the rest", async () => {
    const res = await client.runReadOnly("SELECT orderkey FROM orders", { ...as, maxRows: 10 });
    expect(res.rows).toHaveLength(10);
    expect(res.truncated).toBe(true);
    // The abandoned query ends on the coordinator rather than running on.
    const state = await waitFor("the abandoned query to end", async () => {
      const { state } = await client.status(res.queryId, as);
      return state === "FAILED" || state === "FINISHED" ? state : undefined;
    }, 5_000, 250);
    expect(["FAILED", "FINISHED"]).toContain(state);
  });

  it("lists catalogs, schemas and tables, and describes a table", async () => {
    expect(await client.listCatalogs(as)).toEqual(expect.arrayContaining(["system", "tpch"]));
    expect(await client.listSchemas("tpch", as)).toEqual(expect.arrayContaining(["tiny", "sf1"]));
    expect(await client.listTables("tpch", "tiny", as)).toEqual(expect.arrayContaining(["customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"]));
    const cols = await client.describeTable("tpch", "tiny", "nation", as);
    expect(cols.map((c) => c.column)).toEqual(["nationkey", "name", "regionkey", "comment"]);
    expect(cols[0]).toMatchObject({ type: "bigint" });
  });

  it("explains a query", async () => {
    const plan = await client.explain("SELECT count(*) FROM lineitem WHERE quantity > 10", as);
    expect(plan).toMatch(/Fragment/);
    expect(plan).toMatch(/tpch:tiny:lineitem/);
  });

  it("speaks the X-Presto-* dialect when configured", async () => {
    // The harness's coordinator accepts X-Presto-* too (protocol.v1.alternate-header-name=Presto).
    const presto = new PrestoClient({ url: trino.url, dialect: "presto", catalog: "tpch", schema: "tiny" });
    const res = await presto.runReadOnly("SELECT count(*) FROM nation", as);
    expect(res.rows).toEqual([[25]]);
    expect((await presto.status(res.queryId, as)).user).toBe("ana");
  });

  it("reports a request without a user as an auth failure", async () => {
    const anonymous = new PrestoClient({ url: trino.url });
    const e = await failure(anonymous.query("SELECT 1", { user: "" }));
    expect(e.kind).toBe("auth");
  });

  it("names the cause of bad SQL with Trino's message and position", async () => {
    const e = await failure(client.runReadOnly("SELECT nosuchcolumn FROM nation", as));
    expect(e.kind).toBe("query_failed");
    expect(e.detail.errorName).toBe("COLUMN_NOT_FOUND");
    expect(e.message).toMatch(/Column 'nosuchcolumn' cannot be resolved \(line 1, column 8\)/);
    const missing = await failure(client.runReadOnly("SELECT * FROM tpch.tiny.no_such_table", as));
    expect(missing.detail.errorName).toBe("TABLE_NOT_FOUND");
    const syntax = await failure(client.runReadOnly("SELECT FROM WHERE", as));
    expect(syntax.detail.errorName).toBe("SYNTAX_ERROR");
  });

  it("refuses writes before sending them", async () => {
    await expect(client.runReadOnly("DROP TABLE tpch.tiny.nation", as)).rejects.toBeInstanceOf(SqlRefusedError);
    await expect(client.explain("EXPLAIN ANALYZE DELETE FROM nation", as)).rejects.toBeInstanceOf(SqlRefusedError);
  });

  it("times out a slow query, cancels it, and says so", async () => {
    const started = Date.now();
    const e = await failure(client.runReadOnly("SELECT count(*) FROM tpch.sf1000.lineitem WHERE comment LIKE '%zz%'", { ...as, timeoutMs: 1500 }));
    expect(e.kind).toBe("timeout");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("cancels a running query by id, and reports it as cancelled", async () => {
    const controller = new AbortController();
    // Only the cancel may end this query: no client timeout that a slow, busy machine could reach first.
    // A marker of this test's own, so the search below never finds (and cancels) another suite's query.
    const marker = `cancel-me-${Date.now().toString(36)}`;
    const running = client
      .runReadOnly(`SELECT count(*) FROM tpch.sf1000.lineitem WHERE comment <> '${marker}'`, { ...as, signal: controller.signal, timeoutMs: 600_000 })
      .catch((e: unknown) => e);
    // Find the query on the coordinator through the system tables, as an on-call engineer would.
    const queryId = await waitFor(
      "the query on the coordinator",
      async () => {
        const q = await client.query(
          `SELECT query_id FROM system.runtime.queries WHERE state IN ('RUNNING','QUEUED','PLANNING','STARTING') AND query LIKE '%${marker}%' AND query NOT LIKE '%system.runtime%'`,
          as,
        );
        return q.rows[0]?.[0] as string | undefined;
      },
      90_000,
      250,
    );
    expect(await client.cancel(queryId, as)).toBe(true);
    const status = await client.status(queryId, as);
    expect(status.state).toBe("FAILED");
    expect(status.error?.errorName).toBe("USER_CANCELED");
    const outcome = await running;
    expect(outcome).toBeInstanceOf(PrestoError);
    expect((outcome as PrestoError).kind).toBe("query_failed");
    controller.abort();
  });

  it("reports an unknown query id as not found", async () => {
    const e = await failure(client.status("20200101_000000_00000_xxxxx", as));
    expect(e.kind).toBe("not_found");
  });

  it("reports an unreachable coordinator by its address", async () => {
    const port = await freePort();
    const down = new PrestoClient({ url: `http://127.0.0.1:${port}` });
    const e = await failure(down.query("SELECT 1", as));
    expect(e.kind).toBe("unreachable");
    expect(e.message).toContain(`127.0.0.1:${port}`);
  });
});
