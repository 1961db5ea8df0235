// The Airflow server to a client of each protocol revision (the SDK's 2026-07-28 client and its
// 2025-11-25 client), on a real Airflow 3: listing, calls, denials, and pause_dag confirmed by a
// person; a 2026 confirmation stolen, carried to another DAG, forged or replayed changes nothing.
// Changes happen only to toolfleet_ops, under the same exclusive use as the server's own tests.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { type DomainHarness, REFUSED, attackConfirmation, declaredTools, startDomainHarness, verifierToken } from "../../test/domain-fixture.js";
import { REVISIONS, connectRevision, type RevisionClient } from "../../test/mcp-clients.js";
import { type AirflowBackend, airflowOpsDagId, exclusiveUse, startAirflow } from "../../local/backends/harness.js";
import { AirflowClient } from "./client.js";
import { airflowConfigFromEnv } from "./config.js";
import { createAirflowServer } from "./server.js";

jest.setTimeout(600_000);

const DAG = airflowOpsDagId;
let airflow: AirflowBackend;
let direct: AirflowClient;
let h: DomainHarness;
let release: (() => void) | undefined;
const clients: RevisionClient[] = [];

beforeAll(async () => {
  airflow = await startAirflow();
  release = await exclusiveUse("airflow");
  direct = new AirflowClient({ url: airflow.url, username: airflow.username, password: airflow.password });
  if ((await direct.dag(DAG)).is_paused) await direct.unpauseDag(DAG);
  h = await startDomainHarness("airflow", createAirflowServer(airflowConfigFromEnv({ AIRFLOW_URL: airflow.url, AIRFLOW_USERNAME: airflow.username, AIRFLOW_PASSWORD: airflow.password })));
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await h?.stop();
  if (direct && (await direct.dag(DAG)).is_paused) await direct.unpauseDag(DAG);
  release?.();
});

const open = async (...args: Parameters<typeof connectRevision>) => {
  const c = await connectRevision(...args);
  clients.push(c);
  return c;
};
const paused = async () => (await direct.dag(DAG)).is_paused;

describe.each(REVISIONS)("a %s client of the Airflow server", (revision) => {
  it("lists the tools its caller may see, reads DAGs, and is denied pause_dag outside data-platform", async () => {
    const verifier = await open(revision, { url: h.mcpUrl, token: await verifierToken(h) });
    expect(verifier.protocolVersion()).toBe(revision);
    expect((await verifier.listTools()).sort()).toEqual(declaredTools("airflow").sort());
    const ana = await open(revision, { url: h.mcpUrl, token: await h.idp.userToken("ana", ["ads-eng"]), answer: "accept" });
    expect(await ana.listTools()).not.toContain("pause_dag");
    const dags = await ana.call("list_dags", { dagIdPattern: DAG });
    expect(dags.isError).toBe(false);
    expect(dags.text).toContain(DAG);
    const denied = await ana.call("pause_dag", { dagId: DAG });
    expect(denied.text).toMatch(/^Denied: .*data-platform/);
    expect(ana.asked).toEqual([]);
    expect(await paused()).toBe(false);
  });

  it("pauses and unpauses only what the person accepts", async () => {
    const no = await open(revision, { url: h.mcpUrl, token: await h.idp.userToken("dana", ["data-platform"]), answer: "decline" });
    expect((await no.call("pause_dag", { dagId: DAG })).text).toBe("Not run: pause_dag was declined by the person asked to confirm it.");
    expect(await paused()).toBe(false);
    const yes = await open(revision, { url: h.mcpUrl, token: await h.idp.userToken("dana", ["data-platform"]), answer: "accept" });
    expect(await yes.call("pause_dag", { dagId: DAG })).toMatchObject({ isError: false, text: `DAG ${DAG} is now paused.` });
    expect(await paused()).toBe(true);
    expect(await yes.call("unpause_dag", { dagId: DAG })).toMatchObject({ isError: false, text: `DAG ${DAG} is now active.` });
    expect(await paused()).toBe(false);
    expect(yes.asked).toHaveLength(2);
  });
});

describe("a 2026-07-28 confirmation of pause_dag, as an attacker handles it", () => {
  it("pauses only the confirmed DAG, once, for the person who confirmed it", async () => {
    const attempts = await attackConfirmation(h, {
      tool: "pause_dag",
      args: { dagId: DAG },
      otherArgs: { dagId: `${DAG}_elsewhere` },
      owner: await h.idp.userToken("dana", ["data-platform"]),
      thief: await h.idp.userToken("mallory", ["data-platform"]),
    });
    expect(attempts.message).toContain(DAG);
    expect(attempts.stolen.text).toMatch(REFUSED.stolen);
    expect(attempts.altered.text).toMatch(REFUSED.altered);
    expect(attempts.forged.text).toMatch(REFUSED.forged);
    expect(attempts.accepted).toMatchObject({ isError: false, text: `DAG ${DAG} is now paused.` });
    expect(attempts.replayed.text).toMatch(REFUSED.replayed);
    expect(await paused()).toBe(true);
    expect(h.audit.records.filter((r) => r.tool === "pause_dag").slice(-5).map((r) => [r.caller, r.outcome, r.elicitation])).toEqual([
      [{ kind: "user", subject: "mallory" }, "declined", "invalid"],
      [{ kind: "user", subject: "dana" }, "declined", "invalid"],
      [{ kind: "user", subject: "dana" }, "declined", "invalid"],
      [{ kind: "user", subject: "dana" }, "ok", "accept"],
      [{ kind: "user", subject: "dana" }, "declined", "invalid"],
    ]);
  });
});
