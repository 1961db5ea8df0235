// The Airflow server as an on-call engineer's client meets it: the SDK's Client over HTTP, the
// policy from crds/samples/airflow.yaml, and a real Airflow 3 behind it. Everything that changes
// Airflow happens to toolfleet_ops, a DAG of these tests' own, so the client's tests that run
// beside them never see it; each change is checked in Airflow itself, accepted and declined.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { type DomainHarness, type TestClient, connectAs, declaredTools, serviceAccountToken, startDomainHarness, verifierToken } from "../../test/domain-fixture.js";
import { type AirflowBackend, airflowOpsDagId, exclusiveUse, freePort, startAirflow } from "../../local/backends/harness.js";
import { AirflowClient } from "./client.js";
import { airflowConfigFromEnv } from "./config.js";
import { createAirflowServer } from "./server.js";

jest.setTimeout(600_000);

const DAG = airflowOpsDagId;
let airflow: AirflowBackend;
let direct: AirflowClient;
let h: DomainHarness;
let dana: TestClient; // data-platform: may trigger, clear, pause
let runId: string;

let release: (() => void) | undefined;

beforeAll(async () => {
  airflow = await startAirflow();
  release = await exclusiveUse("airflow"); // SQLite: one writing suite at a time
  direct = new AirflowClient({ url: airflow.url, username: airflow.username, password: airflow.password });
  if ((await direct.dag(DAG)).is_paused) await direct.unpauseDag(DAG); // left paused by an interrupted run
  h = await startDomainHarness("airflow", createAirflowServer(airflowConfigFromEnv({ AIRFLOW_URL: airflow.url, AIRFLOW_USERNAME: airflow.username, AIRFLOW_PASSWORD: airflow.password })));
  dana = await connectAs(h, await h.idp.userToken("dana", ["data-platform"]), "accept");
});
afterAll(async () => {
  await h?.stop();
  release?.();
});

const declining = async () => connectAs(h, await h.idp.userToken("dana", ["data-platform"]), "decline");
const runsOf = async () => (await direct.dagRuns(DAG, { limit: 100 })).total;

describe("the Airflow server's read tools", () => {
  it("lists exactly the sample's tools to the operator's verifier", async () => {
    const verifier = await connectAs(h, await verifierToken(h));
    expect((await verifier.client.listTools()).tools.map((t) => t.name).sort()).toEqual(declaredTools("airflow").sort());
  });

  it("lists DAGs, filtered by id and tag", async () => {
    const bot = await connectAs(h, await serviceAccountToken(h, "agents/incident-bot"));
    const all = await bot.call("list_dags");
    expect((all.structured!.dags as { dag_id: string }[]).map((d) => d.dag_id)).toEqual(expect.arrayContaining(["toolfleet_fails", "toolfleet_ops", "toolfleet_pipeline", "toolfleet_succeeds"]));
    expect(all.text).toMatch(/toolfleet_ops\s+\| no\s+\|/);
    const ops = await bot.call("list_dags", { tags: ["toolfleet-ops"] });
    expect(ops.structured).toMatchObject({ total: 1, dags: [{ dag_id: DAG, is_paused: false }] });
  });

  it("names an unknown DAG and an unknown run", async () => {
    const c = await declining();
    expect(await c.call("list_dag_runs", { dagId: "no_such_dag" })).toMatchObject({ isError: true, text: expect.stringMatching(/^not found in Airflow: .*no_such_dag/), structured: { error: { kind: "not_found", status: 404 } } });
    expect((await c.call("list_task_instances", { dagId: DAG, runId: "no_such_run" })).text).toMatch(/^not found in Airflow: .*no_such_run/);
    expect(c.asked).toEqual([]);
  });
});

describe("trigger_dag_run", () => {
  it("starts nothing when the person declines", async () => {
    const before = await runsOf();
    const c = await declining();
    expect(await c.call("trigger_dag_run", { dagId: DAG, conf: { reason: "declined" } })).toMatchObject({ isError: true, text: "Not run: trigger_dag_run was declined by the person asked to confirm it." });
    expect(c.asked).toEqual([`Start a new run of DAG ${DAG} (Operated on by the server tests: check_inventory fails at once), conf {"reason":"declined"}?`]);
    expect(await runsOf()).toBe(before);
  });

  it("starts a run, noted with who asked, once the person accepts", async () => {
    const before = await runsOf();
    const r = await dana.call("trigger_dag_run", { dagId: DAG, conf: { reason: "on-call retry" }, note: "INC-42" });
    expect(r.isError).toBe(false);
    runId = (r.structured!.run as { dag_run_id: string }).dag_run_id;
    expect(r.text).toMatch(new RegExp(`^Started run ${runId.replace(/[+.]/g, "\\$&")} of ${DAG}; it is (queued|running)\\.$`));
    expect(await runsOf()).toBe(before + 1);
    const run = await direct.waitForRun(DAG, runId, { timeoutMs: 240_000 });
    expect(run).toMatchObject({ state: "failed", conf: { reason: "on-call retry" }, note: "INC-42 — triggered by dana through Toolfleet" });
  });

  it("asks nothing for a DAG that does not exist", async () => {
    const r = await dana.call("trigger_dag_run", { dagId: "no_such_dag" });
    expect(r).toMatchObject({ isError: true, text: expect.stringMatching(/^Not run: trigger_dag_run could not prepare the confirmation: .*no_such_dag/) });
  });
});

describe("reading the failed run", () => {
  it("lists its runs and task instances", async () => {
    const bot = await connectAs(h, await serviceAccountToken(h, "agents/incident-bot"));
    const runs = await bot.call("list_dag_runs", { dagId: DAG, states: ["failed"] });
    expect((runs.structured!.runs as { dag_run_id: string }[]).map((r) => r.dag_run_id)).toContain(runId);
    const tis = await bot.call("list_task_instances", { dagId: DAG, runId });
    expect(tis.structured!.taskInstances).toEqual([expect.objectContaining({ task_id: "check_inventory", state: "failed", try_number: 1 })]);
    expect(tis.text).toMatch(/check_inventory \| failed \| 1\s+\| 1/);
  });

  it("reads the latest try's log", async () => {
    const bot = await connectAs(h, await serviceAccountToken(h, "agents/incident-bot"));
    const log = await bot.call("get_task_logs", { dagId: DAG, runId, taskId: "check_inventory" });
    expect(log.isError).toBe(false);
    expect(log.structured).toMatchObject({ tryNumber: 1, errors: ["RuntimeError: toolfleet: inventory service answered 503"] });
    expect(log.text).toContain("toolfleet: checking inventory");
    const missing = await bot.call("get_task_logs", { dagId: DAG, runId, taskId: "no_such_task" });
    expect(missing).toMatchObject({ isError: true, text: `not found in Airflow: run ${runId} of ${DAG} has no task no_such_task` });
  });

  it("diagnoses the DAG's latest failed run", async () => {
    const bot = await connectAs(h, await serviceAccountToken(h, "agents/incident-bot"));
    const d = await bot.call("diagnose_failed_run", { dagId: DAG });
    expect(d.text.split("\n")[0]).toBe(`${DAG} run ${runId} (failed): check_inventory failed after 1 of 1 tries: RuntimeError: toolfleet: inventory service answered 503`);
    expect(d.text).toContain("toolfleet: checking inventory");
    expect(d.structured).toMatchObject({ runId, failed: [{ taskId: "check_inventory", tries: 1, maxTries: 1 }] });
  });
});

describe("clear_task_instances", () => {
  it("clears nothing when the person declines, after showing exactly which tasks", async () => {
    const c = await declining();
    const r = await c.call("clear_task_instances", { dagId: DAG, runId });
    expect(r.text).toBe("Not run: clear_task_instances was declined by the person asked to confirm it.");
    expect(c.asked).toEqual([`Clear 1 task instance of run ${runId} of DAG ${DAG} so the scheduler runs them again: check_inventory (failed)? The run goes back to queued.`]);
    expect((await direct.taskInstances(DAG, runId))[0]).toMatchObject({ state: "failed", try_number: 1 });
    expect((await direct.dagRun(DAG, runId)).state).toBe("failed");
  });

  it("clears the failed task once accepted, and the scheduler runs it again", async () => {
    const r = await dana.call("clear_task_instances", { dagId: DAG, runId });
    expect(r).toMatchObject({ isError: false, text: `Cleared 1 task instance of ${DAG} run ${runId}: check_inventory. The scheduler runs them again.` });
    const rerun = await direct.waitForRun(DAG, runId, { timeoutMs: 240_000 });
    expect(rerun.state).toBe("failed");
    expect((await direct.taskInstances(DAG, runId))[0]).toMatchObject({ state: "failed", try_number: 2 });
  });

  it("is refused to people outside data-platform", async () => {
    const ana = await connectAs(h, await h.idp.userToken("ana", ["ads-eng"]), "accept");
    const r = await ana.call("clear_task_instances", { dagId: DAG, runId });
    expect(r.text).toMatch(/^Denied: .*data-platform/);
    expect(ana.asked).toEqual([]);
  });
});

describe("pause_dag and unpause_dag", () => {
  afterAll(async () => {
    if ((await direct.dag(DAG)).is_paused) await direct.unpauseDag(DAG);
  });

  it("pause and unpause only what the person accepts", async () => {
    const no = await declining();
    expect((await no.call("pause_dag", { dagId: DAG })).text).toBe("Not run: pause_dag was declined by the person asked to confirm it.");
    expect(no.asked).toEqual([`Pause DAG ${DAG}? The scheduler starts no new runs or tasks of it until it is unpaused; tasks already running finish.`]);
    expect((await direct.dag(DAG)).is_paused).toBe(false);

    expect(await dana.call("pause_dag", { dagId: DAG })).toMatchObject({ isError: false, text: `DAG ${DAG} is now paused.`, structured: { isPaused: true } });
    expect((await direct.dag(DAG)).is_paused).toBe(true);

    expect((await no.call("unpause_dag", { dagId: DAG })).isError).toBe(true);
    expect((await direct.dag(DAG)).is_paused).toBe(true);

    expect(await dana.call("unpause_dag", { dagId: DAG })).toMatchObject({ isError: false, text: `DAG ${DAG} is now active.` });
    expect((await direct.dag(DAG)).is_paused).toBe(false);
  });

  it("asks nothing when there is nothing to change", async () => {
    const c = await connectAs(h, await h.idp.userToken("dana", ["data-platform"]), "accept");
    expect((await c.call("unpause_dag", { dagId: DAG })).text).toBe(`Not run: unpause_dag could not prepare the confirmation: DAG ${DAG} is already active: nothing to change`);
    expect(c.asked).toEqual([]);
  });
});

describe("backend failures", () => {
  it("names refused credentials, an unreachable and a slow Airflow, and a missing configuration", async () => {
    const port = await freePort();
    const config = { url: airflow.url, username: airflow.username, password: airflow.password };
    const servers = {
      wrongPassword: await startDomainHarness("airflow", createAirflowServer({ ...config, password: "wrong" })),
      down: await startDomainHarness("airflow", createAirflowServer({ ...config, url: `http://127.0.0.1:${port}` })),
      slow: await startDomainHarness("airflow", createAirflowServer({ ...config, timeoutMs: 1 })),
      unconfigured: await startDomainHarness("airflow", createAirflowServer(() => airflowConfigFromEnv({ AIRFLOW_URL: airflow.url }))),
    };
    try {
      const text: Record<string, string> = {};
      for (const [name, s] of Object.entries(servers)) {
        const r = await (await connectAs(s, await s.idp.userToken("ana", ["ads-eng"]))).call("list_dags");
        expect(r.isError).toBe(true);
        text[name] = r.text;
      }
      expect(text.wrongPassword).toMatch(/^Airflow refused the server's credentials: Airflow refused the credentials of toolfleet-admin at \/auth\/token: .*Invalid credentials/);
      expect(text.down).toMatch(new RegExp(`^Airflow is unreachable: cannot reach Airflow at http://127.0.0.1:${port}: ECONNREFUSED`));
      expect(text.slow).toBe(`Airflow did not answer in time: Airflow at ${airflow.url} did not answer POST /auth/token within 1 ms`);
      expect(text.unconfigured).toBe("Error: AIRFLOW_USERNAME: required: the account this server signs in to Airflow as");
    } finally {
      await Promise.all(Object.values(servers).map((s) => s.stop()));
    }
  });
});
