/**
 * Usage through the real domain servers on their real backends: the Presto server on Trino and
 * the Spark server on the Spark history server (local/backends, started or reused), each with
 * the policy the operator derives from its sample McpServer, delivering to a registry process.
 * Three people and the incident bot call them; the registry's figures by server, tool, team and
 * month are exactly what the calls were. Needs `make build`.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { startSparkHistory, startTrino } from "../../../local/backends/harness.js";
import { prestoConfigFromEnv } from "../../../servers/presto/config.js";
import { createPrestoServer } from "../../../servers/presto/server.js";
import { sparkConfigFromEnv } from "../../../servers/spark/config.js";
import { createSparkServer } from "../../../servers/spark/server.js";
import { ADMINS, Identity, PREFIX, REGISTRY_AUDIENCE, api, mcpClient, sampleServer, startDomainKit, startRegistryProcess, tempDir, type KitServer, type RegistryProcess } from "./fleet.js";
import { waitFor } from "../../../local/wait-for.js";

jest.setTimeout(300_000);

const KIT_AUDIENCE = "https://kit.example.com/mcp";
const P = `${PREFIX}.data-platform/presto`;
const S = `${PREFIX}.data-platform/spark`;
let identity: Identity;
let registry: RegistryProcess;
const kits: KitServer[] = [];
const clients: Client[] = [];

async function as(kit: KitServer, token: string, confirm?: "accept" | "decline"): Promise<Client> {
  const c = await mcpClient(kit.mcpUrl, token, confirm);
  clients.push(c);
  return c;
}
async function ok(c: Client, tool: string, args: Record<string, unknown> = {}): Promise<boolean> {
  const r = (await c.callTool({ name: tool, arguments: args }, undefined, { timeout: 120_000 })) as CallToolResult;
  return r.isError !== true;
}
async function impact(query: string) {
  const r = await api<{ total: Record<string, number>; groups: Array<Record<string, unknown>> }>(registry.url, `/api/v1/impact?${query}`, await identity.person("root", [ADMINS], REGISTRY_AUDIENCE));
  expect(r.status).toBe(200);
  return r.body;
}

beforeAll(async () => {
  identity = await Identity.start();
  const [trino, history] = await Promise.all([startTrino(), startSparkHistory()]);
  registry = await startRegistryProcess(identity, { file: join(tempDir("usage-db-"), "usage.sqlite") }, 0, [sampleServer("presto"), sampleServer("spark")]);
  const presto = await startDomainKit(identity, "presto", createPrestoServer(prestoConfigFromEnv({ PRESTO_URL: trino.url, PRESTO_CATALOG: "tpch", PRESTO_SCHEMA: "tiny", PRESTO_MAX_ROWS: "500" })), registry.url, tempDir("usage-buf-"));
  const spark = await startDomainKit(identity, "spark", createSparkServer(sparkConfigFromEnv({ SPARK_HISTORY_URL: history.url })), registry.url, tempDir("usage-buf-"));
  kits.push(presto, spark);

  const ann = await as(presto, await identity.person("ann", ["ads-eng"], KIT_AUDIENCE));
  const bob = await as(presto, await identity.person("bob", ["finance"], KIT_AUDIENCE));
  const cy = await as(presto, await identity.person("cy", ["data-platform"], KIT_AUDIENCE), "decline");
  const bot = await as(presto, await identity.serviceAccount("agents/incident-bot", KIT_AUDIENCE));
  // Presto: 7 calls, 5 succeed (1+1+5+5+2 declared minutes), 3 people.
  expect(await ok(ann, "list_catalogs")).toBe(true);
  expect(await ok(ann, "list_catalogs")).toBe(true);
  expect(await ok(bob, "run_query", { sql: "SELECT count(*) FROM nation" })).toBe(true);
  expect(await ok(bot, "run_query", { sql: "SELECT name FROM region" })).toBe(true);
  expect(await ok(cy, "describe_table", { catalog: "tpch", schema: "tiny", table: "nation" })).toBe(true);
  expect(await ok(bob, "run_query", { sql: "SELECT * FROM no_such_table_anywhere" })).toBe(false); // error from Trino
  expect(await ok(cy, "cancel_query", { queryId: "20250101_120000_00001_abcde" })).toBe(false); // no such query: nothing to confirm, an error
  // Spark: 3 calls by two people, all succeed (1 minute each), one refused for bob.
  const annS = await as(spark, await identity.person("ann", ["ads-eng"], KIT_AUDIENCE));
  const cyS = await as(spark, await identity.person("cy", ["data-platform"], KIT_AUDIENCE));
  expect(await ok(annS, "list_applications")).toBe(true);
  expect(await ok(annS, "list_applications")).toBe(true);
  expect(await ok(cyS, "list_applications")).toBe(true);
  await waitFor("10 calls reach the registry", async () => (await impact("groupBy=server")).total.calls === 10, 60_000);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  for (const k of kits) await k.stop();
  await registry?.stop();
  await identity?.stop();
});

describe("usage through the real domain servers", () => {
  it("adds up exactly by server, tool, team and month", async () => {
    const byServer = await impact("groupBy=server");
    expect(byServer.total).toEqual({ calls: 10, okCalls: 8, people: 3, minutesSaved: 17, hoursSaved: 0.28 });
    expect(byServer.groups.map((g) => [g.server, g.calls, g.okCalls, g.people, g.minutesSaved])).toEqual([
      [P, 7, 5, 3, 14],
      [S, 3, 3, 2, 3],
    ]);
    const byTool = await impact("groupBy=tool");
    expect(byTool.groups.map((g) => [g.server, g.tool, g.calls, g.okCalls, g.people, g.minutesSaved])).toEqual([
      [P, "cancel_query", 1, 0, 1, 0],
      [P, "describe_table", 1, 1, 1, 2],
      [P, "list_catalogs", 2, 2, 1, 2],
      [P, "run_query", 3, 2, 1, 10],
      [S, "list_applications", 3, 3, 2, 3],
    ]);
    const byTeam = await impact("groupBy=team");
    expect(byTeam.groups.map((g) => [g.team, g.calls, g.people, g.minutesSaved])).toEqual([["data-platform", 10, 3, 17]]);
    const byMonth = await impact("groupBy=month");
    expect(byMonth.groups.map((g) => [g.month, g.calls, g.okCalls, g.people])).toEqual([[new Date().toISOString().slice(0, 7), 10, 8, 3]]);
  });
});
