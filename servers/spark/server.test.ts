// The Spark server as an on-call engineer's client meets it: the SDK's Client over HTTP, the
// policy from crds/samples/spark.yaml, and a real Spark history server serving the event log
// of local/backends/spark-jobs/skew_demo.py (a skewed, spilling sort and a failing stage).
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { type DomainHarness, connectAs, declaredTools, serviceAccountToken, startDomainHarness, verifierToken } from "../../test/domain-fixture.js";
import { type SparkHistoryBackend, freePort, sparkAppName, startSparkHistory } from "../../local/backends/harness.js";
import { sparkConfigFromEnv } from "./config.js";
import { createSparkServer } from "./server.js";

jest.setTimeout(300_000);

let history: SparkHistoryBackend;
let h: DomainHarness;
let appId: string;

beforeAll(async () => {
  history = await startSparkHistory();
  h = await startDomainHarness("spark", createSparkServer(sparkConfigFromEnv({ SPARK_HISTORY_URL: history.url })));
});
afterAll(async () => {
  await h?.stop();
});

const engineer = async () => connectAs(h, await h.idp.userToken("ana", ["ml-eng"]));

describe("the Spark server's tools, against the history server", () => {
  it("lists exactly the sample's tools to the operator's verifier", async () => {
    const verifier = await connectAs(h, await verifierToken(h));
    expect((await verifier.client.listTools()).tools.map((t) => t.name).sort()).toEqual(declaredTools("spark").sort());
  });

  it("lists applications with their state and duration", async () => {
    const c = await engineer();
    const r = await c.call("list_applications", { status: "completed" });
    expect(r.isError).toBe(false);
    const apps = r.structured!.applications as { id: string; name: string; state: string; durationMs: number }[];
    const app = apps.find((a) => a.name === sparkAppName)!;
    expect(app).toMatchObject({ state: "completed", sparkVersion: history.version });
    expect(app.durationMs).toBeGreaterThan(0);
    expect(r.text).toMatch(new RegExp(`${app.id}\\s+\\| ${sparkAppName}\\s+\\| completed`));
    appId = app.id;
  });

  it("summarises an application: jobs, stages, executors and its failures", async () => {
    const c = await engineer();
    const r = await c.call("application_summary", { appId });
    expect(r.isError).toBe(false);
    expect(r.text).toMatch(new RegExp(`^${sparkAppName} \\(${appId}\\), completed`));
    expect(r.text).toMatch(/jobs: \d+ \(.*1 failed/);
    expect(r.text).toContain("failed stages:");
    expect(r.text).toContain("ValueError: toolfleet: bad record 42 in the failing stage");
    expect(r.structured!.jobs).toMatchObject({ failed: [expect.any(Number)] });
    expect((r.structured!.stages as { failed: { description: string }[] }).failed).toEqual([expect.objectContaining({ description: "toolfleet failing stage" })]);
  });

  it("lists jobs and stages, filtered by state, with the failure's error line", async () => {
    const c = await engineer();
    const jobs = await c.call("list_jobs", { appId });
    expect((jobs.structured!.jobs as { description: string }[]).map((j) => j.description)).toEqual(
      expect.arrayContaining(["toolfleet skewed sort", "toolfleet balanced aggregation", "toolfleet failing stage"]),
    );
    const failedJobs = await c.call("list_jobs", { appId, status: "failed" });
    expect(failedJobs.structured!.jobs).toEqual([expect.objectContaining({ description: "toolfleet failing stage", status: "FAILED" })]);
    const failedStages = await c.call("list_stages", { appId, status: "failed" });
    expect(failedStages.structured!.stages).toEqual([expect.objectContaining({ status: "FAILED", error: "ValueError: toolfleet: bad record 42 in the failing stage" })]);
    expect(failedStages.text).toContain("ValueError: toolfleet: bad record 42 in the failing stage");
    const all = await c.call("list_stages", { appId });
    expect((all.structured!.stages as unknown[]).length).toBeGreaterThan(3);
  });

  it("ranks the slowest stages with their task time spread, the skewed sort first", async () => {
    const c = await engineer();
    const r = await c.call("slowest_stages", { appId, limit: 3 });
    const stages = r.structured!.stages as { description: string; executorRunTimeMs: number; medianTaskMs: number; maxTaskMs: number }[];
    expect(stages).toHaveLength(3);
    expect(stages[0]!.description).toBe("toolfleet skewed sort");
    expect(stages[0]!.executorRunTimeMs).toBeGreaterThanOrEqual(stages[1]!.executorRunTimeMs);
    expect(stages[0]!.maxTaskMs).toBeGreaterThan(3 * stages[0]!.medianTaskMs);
    expect(r.text).toMatch(/toolfleet skewed sort .*\d+(\.\d)?×/);
  });

  it("shows executor metrics", async () => {
    const c = await engineer();
    const r = await c.call("executor_metrics", { appId });
    expect(r.structured!.executors).toEqual(expect.arrayContaining([expect.objectContaining({ id: "driver", totalCores: 2, failedTasks: 1 })]));
    expect(r.text).toMatch(/driver\s+\|/);
  });

  it("diagnoses the application: the failed stage first, then skew and spill, with numbers", async () => {
    const bot = await connectAs(h, await serviceAccountToken(h, "agents/incident-bot"));
    const r = await bot.call("diagnose_application", { appId });
    expect(r.isError).toBe(false);
    expect(r.text).toMatch(new RegExp(`^${sparkAppName} \\(${appId}\\): stage \\d+ \\(toolfleet failing stage\\) failed: ValueError: toolfleet: bad record 42 in the failing stage`));
    expect(r.text).toMatch(/\[warning\] skew: stage \d+ \(toolfleet skewed sort\) is skewed/);
    expect(r.text).toMatch(/ {2}recordsRatio: \d+/);
    const kinds = (r.structured!.findings as { kind: string }[]).map((f) => f.kind);
    expect(kinds[0]).toBe("failed_stage");
    expect(kinds).toEqual(expect.arrayContaining(["skew", "spill"]));
  });

  it("names an unknown application", async () => {
    const c = await engineer();
    // Its look-ups run in parallel: the application's ("unknown app") or its jobs' ("no such app") answers first.
    const r = await c.call("diagnose_application", { appId: "app-does-not-exist" });
    expect(r).toMatchObject({ isError: true, text: expect.stringMatching(/^not found: (unknown|no such) app: app-does-not-exist$/), structured: { error: { kind: "not_found", status: 404 } } });
  });
});

describe("backend failures", () => {
  it("names an unreachable Spark API, a slow one and a missing configuration", async () => {
    const port = await freePort();
    const down = await startDomainHarness("spark", createSparkServer({ url: `http://127.0.0.1:${port}` }));
    const slow = await startDomainHarness("spark", createSparkServer({ url: history.url, timeoutMs: 1 }));
    const unconfigured = await startDomainHarness("spark", createSparkServer(() => sparkConfigFromEnv({})));
    try {
      const token = (x: DomainHarness) => x.idp.userToken("ana", ["ml-eng"]);
      expect(await (await connectAs(down, await token(down))).call("list_applications")).toMatchObject({
        isError: true,
        text: expect.stringMatching(new RegExp(`^the Spark API is unreachable: cannot reach the Spark API at http://127.0.0.1:${port}: ECONNREFUSED`)),
      });
      expect(await (await connectAs(slow, await token(slow))).call("list_applications")).toMatchObject({ isError: true, text: `the Spark API did not answer in time: the Spark API at ${history.url} did not answer within 1 ms` });
      expect((await (await connectAs(unconfigured, await token(unconfigured))).call("list_applications")).text).toMatch(/^Error: SPARK_URL: required.*\(or set SPARK_HISTORY_URL\)/);
    } finally {
      await Promise.all([down.stop(), slow.stop(), unconfigured.stop()]);
    }
  });
});
