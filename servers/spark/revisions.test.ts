// The Spark server to a client of each protocol revision (the SDK's 2026-07-28 client and its
// 2025-11-25 client), on a real Spark history server: listing, calls and denials. Its tools
// only read, so none asks a person to confirm (the kit's and the other servers' tests do).
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { type DomainHarness, declaredTools, startDomainHarness, verifierToken } from "../../test/domain-fixture.js";
import { REVISIONS, connectRevision, type RevisionClient } from "../../test/mcp-clients.js";
import { type SparkHistoryBackend, sparkAppName, startSparkHistory } from "../../local/backends/harness.js";
import { sparkConfigFromEnv } from "./config.js";
import { createSparkServer } from "./server.js";

jest.setTimeout(300_000);

let history: SparkHistoryBackend;
let h: DomainHarness;
const clients: RevisionClient[] = [];

beforeAll(async () => {
  history = await startSparkHistory();
  h = await startDomainHarness("spark", createSparkServer(sparkConfigFromEnv({ SPARK_HISTORY_URL: history.url })));
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

describe.each(REVISIONS)("a %s client of the Spark server", (revision) => {
  it("lists the tools, reads the demo application, and is denied a tool the policy does not declare", async () => {
    const verifier = await open(revision, { url: h.mcpUrl, token: await verifierToken(h) });
    expect(verifier.protocolVersion()).toBe(revision);
    expect((await verifier.listTools()).sort()).toEqual(declaredTools("spark").sort());
    const ana = await open(revision, { url: h.mcpUrl, token: await h.idp.userToken("ana", ["ml-eng"]) });
    const apps = await ana.call("list_applications", { status: "completed" });
    expect(apps.isError).toBe(false);
    expect(apps.text).toContain(sparkAppName);
    const denied = await ana.call("kill_application", { appId: "app-1" });
    expect(denied).toMatchObject({ isError: true, text: expect.stringMatching(/^Denied: /) });
  });

  it("refuses a person outside the server's groups before any tool", async () => {
    const outsider = connectRevision(revision, { url: h.mcpUrl, token: await h.idp.userToken("fin", ["finance"]) });
    await expect(outsider).rejects.toThrow(/403|[Ii]nsufficient scope|forbidden/);
  });
});
