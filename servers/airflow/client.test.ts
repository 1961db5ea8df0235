// Against a real Airflow 3 (airflow standalone on SQLite) with the project's DAGs from
// local/backends/airflow-dags/, started (or reused) by the backends harness.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { type AirflowBackend, airflowDagIds, exclusiveUse, freePort, startAirflow } from "../../local/backends/harness.js";
import { AirflowClient, AirflowError, type DagRun } from "./client.js";
import { diagnoseFailedRun, failedRunInput } from "./diagnose.js";

jest.setTimeout(600_000);

let airflow: AirflowBackend;
let client: AirflowClient;
// One run of each DAG, triggered together up front since each takes a while.
const runs: Record<string, DagRun> = {};

let release: (() => void) | undefined;

beforeAll(async () => {
  airflow = await startAirflow();
  release = await exclusiveUse("airflow"); // SQLite: one writing suite at a time
  client = new AirflowClient({ url: airflow.url, username: airflow.username, password: airflow.password });
  // Triggered one after another: Airflow on SQLite sometimes answers parallel run inserts with "Database error".
  const triggered: DagRun[] = [];
  for (const id of airflowDagIds) triggered.push(await client.triggerDagRun(id, { conf: { from: "jest" }, note: "toolfleet test" }));
  const finished = await Promise.all(triggered.map((r) => client.waitForRun(r.dag_id, r.dag_run_id, { timeoutMs: 240_000 })));
  for (const r of finished) runs[r.dag_id] = r;
});

afterAll(() => release?.());

async function failure(p: Promise<unknown>): Promise<AirflowError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AirflowError) return e;
    throw e;
  }
  throw new Error("expected an AirflowError");
}

describe("AirflowClient against Airflow 3", () => {
  it("lists the project's DAGs and reads one", async () => {
    const { dags, total } = await client.listDags({ tags: ["toolfleet"] });
    expect(dags.map((d) => d.dag_id)).toEqual([...airflowDagIds].sort());
    expect(total).toBe(3);
    const dag = await client.dag("toolfleet_fails");
    expect(dag).toMatchObject({ dag_id: "toolfleet_fails", is_paused: false, description: "Fails: load_orders raises after a retry" });
    expect((await client.listDags({ idPattern: "pipe" })).dags.map((d) => d.dag_id)).toEqual(["toolfleet_pipeline"]);
  });

  it("triggers runs that reach their real final states", () => {
    expect(runs.toolfleet_succeeds).toMatchObject({ state: "success", run_type: "manual", conf: { from: "jest" }, note: "toolfleet test" });
    expect(runs.toolfleet_pipeline!.state).toBe("success");
    expect(runs.toolfleet_fails!.state).toBe("failed");
  });

  it("lists DAG runs newest first, filtered by state", async () => {
    const { runs: all } = await client.dagRuns("toolfleet_fails");
    expect(all[0]!.dag_run_id).toBe(runs.toolfleet_fails!.dag_run_id);
    const { runs: succeeded } = await client.dagRuns("toolfleet_fails", { state: ["success"] });
    expect(succeeded.every((r) => r.state === "success")).toBe(true);
  });

  it("lists task instances of a run", async () => {
    const tis = await client.taskInstances("toolfleet_pipeline", runs.toolfleet_pipeline!.dag_run_id);
    expect(tis.map((t) => [t.task_id, t.state]).sort()).toEqual([
      ["double", "success"],
      ["extract", "success"],
      ["load", "success"],
      ["square", "success"],
    ]);
  });

  it("reads a task's log", async () => {
    const log = await client.taskLog("toolfleet_succeeds", runs.toolfleet_succeeds!.dag_run_id, "greet", 1);
    expect(log.lines.some((l) => l.includes("toolfleet: hello from toolfleet_succeeds"))).toBe(true);
    expect(log.errors).toEqual([]);
  });

  it("diagnoses the failed run: the failed task, its tries and its error, and what it held up", async () => {
    const d = diagnoseFailedRun(await failedRunInput(client, "toolfleet_fails"));
    expect(d.runId).toBe(runs.toolfleet_fails!.dag_run_id);
    expect(d.failed).toEqual([
      expect.objectContaining({ taskId: "load_orders", tries: 2, maxTries: 2, error: "ValueError: toolfleet: warehouse table orders_daily is missing column order_total" }),
    ]);
    expect(d.failed[0]!.logTail.some((l) => l.includes("toolfleet: loading 42 orders into the warehouse"))).toBe(true);
    expect(d.upstreamFailed).toEqual(["report"]);
    expect(d.summary).toBe("load_orders failed after 2 of 2 tries: ValueError: toolfleet: warehouse table orders_daily is missing column order_total; not run as a result: report");
  });

  it("says a successful run has nothing to diagnose", async () => {
    const d = diagnoseFailedRun(await failedRunInput(client, "toolfleet_succeeds", runs.toolfleet_succeeds!.dag_run_id));
    expect(d.failed).toEqual([]);
    expect(d.summary).toMatch(/no task failed/);
  });

  it("clears failed task instances (dry run first), and the scheduler runs them again", async () => {
    const runId = runs.toolfleet_fails!.dag_run_id;
    const preview = await client.clearTaskInstances("toolfleet_fails", { runId, dryRun: true });
    expect(preview.map((t) => t.task_id).sort()).toEqual(["load_orders", "report"]);
    expect((await client.dagRun("toolfleet_fails", runId)).state).toBe("failed");
    await client.clearTaskInstances("toolfleet_fails", { runId });
    const rerun = await client.waitForRun("toolfleet_fails", runId, { timeoutMs: 240_000 });
    expect(rerun.state).toBe("failed");
    const load = (await client.taskInstances("toolfleet_fails", runId)).find((t) => t.task_id === "load_orders")!;
    expect(load.try_number).toBeGreaterThan(2);
  });

  it("pauses and unpauses a DAG", async () => {
    expect((await client.pauseDag("toolfleet_pipeline")).is_paused).toBe(true);
    expect((await client.dag("toolfleet_pipeline")).is_paused).toBe(true);
    expect((await client.unpauseDag("toolfleet_pipeline")).is_paused).toBe(false);
  });

  it("signs in again when its token is no longer accepted", async () => {
    const c = new AirflowClient({ url: airflow.url, username: airflow.username, password: airflow.password });
    Reflect.set(c, "token", { value: "not-a-valid-token", expiresAt: Date.now() + 3_600_000 });
    expect((await c.dag("toolfleet_succeeds")).dag_id).toBe("toolfleet_succeeds");
  });

  it("names an unknown DAG and an unknown run", async () => {
    const dag = await failure(client.dag("no_such_dag"));
    expect(dag.kind).toBe("not_found");
    expect(dag.message).toMatch(/no_such_dag/);
    const trigger = await failure(client.triggerDagRun("no_such_dag"));
    expect(trigger.kind).toBe("not_found");
    const run = await failure(client.dagRun("toolfleet_fails", "no_such_run"));
    expect(run.kind).toBe("not_found");
  });

  it("refuses a duplicate run id as a conflict", async () => {
    const e = await failure(client.triggerDagRun("toolfleet_succeeds", { runId: runs.toolfleet_succeeds!.dag_run_id }));
    expect(e.kind).toBe("conflict");
  });

  it("reports a wrong password as an auth failure", async () => {
    const c = new AirflowClient({ url: airflow.url, username: airflow.username, password: "wrong" });
    const e = await failure(c.listDags());
    expect(e.kind).toBe("auth");
    expect(e.message).toMatch(/Invalid credentials/);
  });

  it("reports an unreachable server and a slow answer", async () => {
    const port = await freePort();
    const down = await failure(new AirflowClient({ url: `http://127.0.0.1:${port}`, username: "u", password: "p" }).listDags());
    expect(down.kind).toBe("unreachable");
    expect(down.message).toContain(`127.0.0.1:${port}`);
    const slow = await failure(new AirflowClient({ url: airflow.url, username: airflow.username, password: airflow.password, timeoutMs: 1 }).listDags());
    expect(slow.kind).toBe("timeout");
  });
});
