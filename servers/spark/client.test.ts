// Against the real Spark history server serving the event log of local/backends/spark-jobs/skew_demo.py,
// and a live driver running the same job, both started (or reused) by the backends harness.
import { beforeAll, describe, expect, it, jest } from "@jest/globals";
import { type SparkHistoryBackend, type SparkLiveBackend, freePort, sparkAppName, startSparkHistory, startSparkLive } from "../../local/backends/harness.js";
import { SparkClient, SparkError } from "./client.js";
import { diagnose } from "./diagnose.js";
import { waitFor } from "../../local/wait-for.js";

jest.setTimeout(600_000);

let history: SparkHistoryBackend;
let client: SparkClient;
let appId: string;

beforeAll(async () => {
  history = await startSparkHistory();
  client = new SparkClient({ url: history.url });
  const apps = await client.listApplications({ status: "completed" });
  appId = apps.find((a) => a.name === sparkAppName)!.id;
});

async function failure(p: Promise<unknown>): Promise<SparkError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SparkError) return e;
    throw e;
  }
  throw new Error("expected a SparkError");
}

describe("SparkClient against the history server", () => {
  it("lists the completed application and its summary", async () => {
    const app = await client.application({ appId });
    expect(app.name).toBe(sparkAppName);
    expect(app.attempts[0]).toMatchObject({ completed: true, appSparkVersion: history.version });
  });

  it("lists jobs with the failing one marked", async () => {
    const jobs = await client.jobs({ appId });
    expect(jobs.map((j) => j.description)).toEqual(expect.arrayContaining(["toolfleet skewed sort", "toolfleet balanced aggregation", "toolfleet failing stage"]));
    const failed = await client.jobs({ appId }, { status: "failed" });
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ description: "toolfleet failing stage", numFailedTasks: 1 });
  });

  it("lists failed stages with their failure reason", async () => {
    const failed = await client.stages({ appId }, { status: "failed" });
    expect(failed).toHaveLength(1);
    expect(failed[0]!.failureReason).toContain("ValueError: toolfleet: bad record 42 in the failing stage");
  });

  it("returns a stage's task distribution, which shows the skew", async () => {
    const skewed = (await client.stages({ appId })).find((s) => s.description === "toolfleet skewed sort" && s.shuffleReadRecords > 0)!;
    const summary = await client.taskSummary({ appId }, skewed.stageId, skewed.attemptId);
    expect(summary.quantiles).toEqual([0, 0.25, 0.5, 0.75, 1]);
    const records = summary.shuffleReadMetrics.readRecords;
    // 80 % of 2,000,000 rows share one key, so one of 8 tasks reads ~1.65 M records, the median ~50 k.
    expect(records[4]).toBeGreaterThan(1_500_000);
    expect(records[2]).toBeLessThan(100_000);
    expect(summary.diskBytesSpilled[4]).toBeGreaterThan(0);
  });

  it("ranks the slowest stages and lists executors", async () => {
    const slowest = await client.slowestStages({ appId }, 2);
    expect(slowest[0]!.description).toBe("toolfleet skewed sort");
    expect(slowest[0]!.executorRunTime).toBeGreaterThanOrEqual(slowest[1]!.executorRunTime);
    const executors = await client.executors({ appId });
    expect(executors.find((e) => e.id === "driver")).toMatchObject({ totalCores: 2, failedTasks: 1 });
  });

  it("diagnoses the application: the failure, then the skew and the spill, with numbers", async () => {
    const d = diagnose(await client.diagnosisInput({ appId }));
    expect(d.summary).toMatch(/^stage \d+ \(toolfleet failing stage\) failed: ValueError: toolfleet: bad record 42 in the failing stage/);
    const kinds = d.findings.map((f) => f.kind);
    expect(kinds[0]).toBe("failed_stage");
    expect(kinds).toEqual(expect.arrayContaining(["skew", "spill"]));
    expect(kinds).not.toContain("lost_executors");
    const skew = d.findings.find((f) => f.kind === "skew")!;
    expect(skew.message).toMatch(/toolfleet skewed sort/);
    expect(skew.evidence.recordsRatio).toBeGreaterThan(10);
    expect(skew.evidence.maxRecords).toBeGreaterThan(1_500_000);
    const spill = d.findings.find((f) => f.kind === "spill")!;
    expect(spill.evidence.diskBytesSpilled).toBeGreaterThan(0);
    // The balanced stage is not called skewed.
    expect(d.findings.filter((f) => f.kind === "skew").every((f) => /skewed sort/.test(f.message))).toBe(true);
  });

  it("reports an unknown application as not found", async () => {
    const e = await failure(client.jobs({ appId: "app-does-not-exist" }));
    expect(e.kind).toBe("not_found");
    expect(e.message).toMatch(/no such app/);
  });

  it("reports an unreachable server, and a request that takes too long", async () => {
    const port = await freePort();
    const e = await failure(new SparkClient({ url: `http://127.0.0.1:${port}` }).listApplications());
    expect(e.kind).toBe("unreachable");
    expect(e.message).toContain(`127.0.0.1:${port}`);
    const slow = await failure(new SparkClient({ url: history.url, timeoutMs: 1 }).stages({ appId }));
    expect(slow.kind).toBe("timeout");
  });
});

describe("SparkClient against a live driver", () => {
  let live: SparkLiveBackend;
  beforeAll(async () => {
    live = await startSparkLive();
  });

  it("sees the running application, its jobs and its failed stage through the driver's UI", async () => {
    const c = new SparkClient({ url: live.url });
    const apps = await c.listApplications();
    expect(apps).toHaveLength(1);
    expect(apps[0]).toMatchObject({ name: sparkAppName });
    expect(apps[0]!.attempts[0]!.completed).toBe(false);
    const ref = { appId: apps[0]!.id };
    // The driver's status store follows its listener bus, a moment behind the job itself.
    await waitFor("a failed job in the driver's status store", async () => (await c.jobs(ref)).some((j) => j.status === "FAILED"), 10_000, 500);
    const d = diagnose(await c.diagnosisInput(ref));
    expect(d.findings[0]).toMatchObject({ kind: "failed_stage" });
    expect(d.findings.map((f) => f.kind)).toContain("skew");
  });
});
