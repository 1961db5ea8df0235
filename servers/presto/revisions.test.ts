// The Presto server to a client of each protocol revision (the SDK's 2026-07-28 client and its
// 2025-11-25 client), on a real Trino: listing, calls, denials, and cancel_query confirmed by a
// person; a 2026 confirmation stolen, carried to another query, forged or replayed cancels nothing.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { type DomainHarness, REFUSED, attackConfirmation, declaredTools, startDomainHarness, verifierToken } from "../../test/domain-fixture.js";
import { REVISIONS, connectRevision, type RevisionClient } from "../../test/mcp-clients.js";
import { type TrinoBackend, startTrino } from "../../local/backends/harness.js";
import { PrestoClient } from "./client.js";
import { prestoConfigFromEnv } from "./config.js";
import { createPrestoServer } from "./server.js";

jest.setTimeout(300_000);

let trino: TrinoBackend;
let h: DomainHarness;
let trinoClient: PrestoClient;
const admin = { user: "toolfleet-test-admin" };
const clients: RevisionClient[] = [];

beforeAll(async () => {
  trino = await startTrino();
  trinoClient = new PrestoClient({ url: trino.url });
  h = await startDomainHarness("presto", createPrestoServer(prestoConfigFromEnv({ PRESTO_URL: trino.url, PRESTO_CATALOG: "tpch", PRESTO_SCHEMA: "tiny", PRESTO_MAX_ROWS: "500" })));
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await h?.stop();
});

const open = async (...args: Parameters<typeof connectRevision>) => {
  const c = await connectRevision(...args);
  clients.push(c);
  return c;
};

/** A query that runs for minutes, started as `user` on the coordinator; its id once it runs. */
async function startLongQuery(user: string): Promise<string> {
  const headers = { "X-Trino-User": user };
  let page = (await (await fetch(`${trino.url}/v1/statement`, { method: "POST", headers, body: "SELECT count(*) FROM tpch.sf1000.lineitem WHERE comment LIKE '%revisions%'" })).json()) as {
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
const stateOf = async (queryId: string) => (await trinoClient.status(queryId, admin)).state;

describe.each(REVISIONS)("a %s client of the Presto server", (revision) => {
  it("lists the tools its caller may see, runs a query, and is denied cancel_query outside data-platform", async () => {
    const verifier = await open(revision, { url: h.mcpUrl, token: await verifierToken(h) });
    expect(verifier.protocolVersion()).toBe(revision);
    expect((await verifier.listTools()).sort()).toEqual(declaredTools("presto").sort());
    const ana = await open(revision, { url: h.mcpUrl, token: await h.idp.userToken("ana", ["ads-eng"]), answer: "accept" });
    expect(await ana.listTools()).not.toContain("cancel_query");
    const r = await ana.call("run_query", { sql: "SELECT count(*) AS n FROM region" });
    expect(r).toMatchObject({ isError: false, structured: { rows: [[5]] } });
    const denied = await ana.call("cancel_query", { queryId: "20200101_000000_00000_xxxxx" });
    expect(denied.isError).toBe(true);
    expect(denied.text).toMatch(/^Denied: .*data-platform/);
    expect(ana.asked).toEqual([]);
  });

  it("cancels a query once the person accepts, and leaves it running when they decline", async () => {
    const declined = await startLongQuery("bob");
    try {
      const no = await open(revision, { url: h.mcpUrl, token: await h.idp.userToken("dana", ["data-platform"]), answer: "decline" });
      expect(await no.call("cancel_query", { queryId: declined })).toMatchObject({ isError: true, text: "Not run: cancel_query was declined by the person asked to confirm it." });
      expect(no.asked[0]).toContain(declined);
      expect(await stateOf(declined)).not.toBe("FAILED");
    } finally {
      await trinoClient.cancel(declined, admin);
    }
    const accepted = await startLongQuery("bob");
    const yes = await open(revision, { url: h.mcpUrl, token: await h.idp.userToken("dana", ["data-platform"]), answer: "accept" });
    expect(await yes.call("cancel_query", { queryId: accepted })).toMatchObject({ isError: false, text: `Cancelled query ${accepted}; it is now FAILED.` });
    expect(yes.asked).toHaveLength(1);
    expect(await trinoClient.status(accepted, admin)).toMatchObject({ state: "FAILED", error: { errorName: "USER_CANCELED" } });
  });
});

describe("a 2026-07-28 confirmation of cancel_query, as an attacker handles it", () => {
  it("cancels only the confirmed query, once, for the person who confirmed it", async () => {
    const target = await startLongQuery("bob");
    const bystander = await startLongQuery("carol");
    try {
      const attempts = await attackConfirmation(h, {
        tool: "cancel_query",
        args: { queryId: target },
        otherArgs: { queryId: bystander },
        owner: await h.idp.userToken("dana", ["data-platform"]),
        thief: await h.idp.userToken("mallory", ["data-platform"]),
      });
      expect(attempts.message).toContain(target);
      expect(attempts.stolen.text).toMatch(REFUSED.stolen);
      expect(attempts.altered.text).toMatch(REFUSED.altered);
      expect(attempts.forged.text).toMatch(REFUSED.forged);
      expect(attempts.accepted).toMatchObject({ isError: false, text: `Cancelled query ${target}; it is now FAILED.` });
      expect(attempts.replayed.text).toMatch(REFUSED.replayed);
      expect(await stateOf(bystander)).not.toBe("FAILED");
      const audited = h.audit.records.filter((r) => r.tool === "cancel_query").slice(-5);
      expect(audited.map((r) => [r.caller, r.outcome, r.elicitation])).toEqual([
        [{ kind: "user", subject: "mallory" }, "declined", "invalid"],
        [{ kind: "user", subject: "dana" }, "declined", "invalid"],
        [{ kind: "user", subject: "dana" }, "declined", "invalid"],
        [{ kind: "user", subject: "dana" }, "ok", "accept"],
        [{ kind: "user", subject: "dana" }, "declined", "invalid"],
      ]);
    } finally {
      await trinoClient.cancel(bystander, admin);
    }
  });
});
