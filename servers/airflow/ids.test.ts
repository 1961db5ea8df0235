// Ids that would walk Airflow's API paths (`.`, `..`) or that Airflow would never accept are
// refused by the server with an error naming the argument, before any request: a counting
// proxy in front of the real Airflow shows nothing reached it, while a good id does.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { type DomainHarness, type TestClient, connectAs, startDomainHarness } from "../../test/domain-fixture.js";
import { startCountingProxy, type CountingProxy } from "../../test/counting-proxy.js";
import { startAirflow } from "../../local/backends/harness.js";
import { AirflowClient } from "./client.js";
import { airflowConfigFromEnv } from "./config.js";
import { createAirflowServer } from "./server.js";

jest.setTimeout(600_000);

let proxy: CountingProxy;
let h: DomainHarness;
let dana: TestClient;
let creds: { username: string; password: string };

beforeAll(async () => {
  const airflow = await startAirflow();
  creds = { username: airflow.username, password: airflow.password };
  proxy = await startCountingProxy(airflow.url);
  h = await startDomainHarness("airflow", createAirflowServer(airflowConfigFromEnv({ AIRFLOW_URL: proxy.url, AIRFLOW_USERNAME: airflow.username, AIRFLOW_PASSWORD: airflow.password })));
  dana = await connectAs(h, await h.idp.userToken("dana", ["data-platform"]), "accept");
});
afterAll(async () => {
  await h?.stop();
  await proxy?.stop();
});

const hostile = [".", "..", "a/b", "../dags", "%2e%2e", "dag?x=1", "dag#x", "da g", ""];

describe("Airflow ids", () => {
  it("a good id goes through the proxy to Airflow", async () => {
    const before = proxy.seen.length;
    const r = await dana.call("list_dag_runs", { dagId: "toolfleet_succeeds", limit: 1 });
    expect(r.isError).toBe(false);
    expect(proxy.seen.slice(before).some((s) => s.startsWith("GET /api/v2/dags/toolfleet_succeeds/dagRuns"))).toBe(true);
  });

  it.each(hostile)("DAG id %j is refused naming dagId, and nothing reaches Airflow", async (dagId) => {
    const before = proxy.seen.length;
    for (const [tool, args] of [
      ["list_dag_runs", { dagId }],
      ["list_task_instances", { dagId, runId: "manual__2025-01-01T00:00:00+00:00" }],
      ["diagnose_failed_run", { dagId }],
      ["pause_dag", { dagId }],
      ["trigger_dag_run", { dagId }],
    ] as const) {
      const r = await dana.call(tool, args);
      expect({ tool, isError: r.isError }).toEqual({ tool, isError: true });
      expect(r.text).toMatch(/dagId/);
    }
    expect(dana.asked).toEqual([]);
    expect(proxy.seen.slice(before)).toEqual([]);
  });

  it.each([".", "..", "run/1", "run%2F1", "run 1"])("run id %j is refused naming runId, and nothing reaches Airflow", async (runId) => {
    const before = proxy.seen.length;
    const r = await dana.call("list_task_instances", { dagId: "toolfleet_succeeds", runId });
    expect(r).toMatchObject({ isError: true, text: expect.stringMatching(/runId/) });
    const logs = await dana.call("get_task_logs", { dagId: "toolfleet_succeeds", runId: "manual__x", taskId: runId });
    expect(logs).toMatchObject({ isError: true, text: expect.stringMatching(/taskId/) });
    expect(proxy.seen.slice(before)).toEqual([]);
  });

  it("the client itself refuses them too, before any request", async () => {
    const client = new AirflowClient({ url: proxy.url, ...creds });
    const before = proxy.seen.length;
    for (const id of [".", ".."]) {
      await expect(client.dagRuns(id)).rejects.toMatchObject({ kind: "invalid_id", message: expect.stringMatching(/is not an Airflow DAG id/) });
      await expect(client.dagRun("toolfleet_succeeds", id)).rejects.toMatchObject({ kind: "invalid_id", message: expect.stringMatching(/is not an Airflow run id/) });
    }
    expect(proxy.seen.slice(before)).toEqual([]);
  });
});
