// Ids that would walk the Spark REST API's paths (`.`, `..`) or that Spark never issues are
// refused by the server with an error naming the argument, before any request: a counting
// proxy in front of the real history server shows nothing reached it, while a good id does.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { type DomainHarness, type TestClient, connectAs, startDomainHarness } from "../../test/domain-fixture.js";
import { startCountingProxy, type CountingProxy } from "../../test/counting-proxy.js";
import { startSparkHistory } from "../../local/backends/harness.js";
import { SparkClient } from "./client.js";
import { sparkConfigFromEnv } from "./config.js";
import { createSparkServer } from "./server.js";

jest.setTimeout(300_000);

let proxy: CountingProxy;
let h: DomainHarness;
let ana: TestClient;

beforeAll(async () => {
  const history = await startSparkHistory();
  proxy = await startCountingProxy(history.url);
  h = await startDomainHarness("spark", createSparkServer(sparkConfigFromEnv({ SPARK_HISTORY_URL: proxy.url })));
  ana = await connectAs(h, await h.idp.userToken("ana", ["ml-eng"]));
});
afterAll(async () => {
  await h?.stop();
  await proxy?.stop();
});

const tools = ["application_summary", "list_jobs", "list_stages", "slowest_stages", "executor_metrics", "diagnose_application"];

describe("Spark ids", () => {
  it("a good id goes through the proxy to Spark", async () => {
    const apps = await ana.call("list_applications", {});
    const appId = (apps.structured!.applications as { id: string }[])[0]!.id;
    const before = proxy.seen.length;
    expect((await ana.call("list_jobs", { appId })).isError).toBe(false);
    expect(proxy.seen.slice(before)).toEqual([expect.stringMatching(new RegExp(`^GET /api/v1/applications/${appId}/jobs`))]);
  });

  it.each([".", "..", "../applications", "a/b", "%2e%2e", "app?x=1", "app 1"])("application id %j is refused naming appId, and nothing reaches Spark", async (appId) => {
    const before = proxy.seen.length;
    for (const tool of tools) {
      const r = await ana.call(tool, { appId });
      expect({ tool, isError: r.isError, names: /appId/.test(r.text) }).toEqual({ tool, isError: true, names: true });
    }
    expect(proxy.seen.slice(before)).toEqual([]);
  });

  it.each([".", "..", "1/..", "1.0"])("attempt id %j is refused naming attemptId, and nothing reaches Spark", async (attemptId) => {
    const before = proxy.seen.length;
    const r = await ana.call("list_jobs", { appId: "app-20250101120000-0001", attemptId });
    expect(r).toMatchObject({ isError: true, text: expect.stringMatching(/attemptId/) });
    expect(proxy.seen.slice(before)).toEqual([]);
  });

  it("the client itself refuses them too, before any request", async () => {
    const client = new SparkClient({ url: proxy.url });
    const before = proxy.seen.length;
    for (const id of [".", ".."]) {
      await expect(client.application({ appId: id })).rejects.toMatchObject({ kind: "invalid_id", message: expect.stringMatching(/is not a Spark application id/) });
      await expect(client.jobs({ appId: "app-1", attemptId: id })).rejects.toMatchObject({ kind: "invalid_id" });
    }
    expect(proxy.seen.slice(before)).toEqual([]);
  });
});
