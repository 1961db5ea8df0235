/**
 * Usage end to end: kit servers (the kit's own test server, over the MCP SDK's client) record
 * every call, deliver to the registry's usage API with their own service-account tokens, and
 * the registry answers exact figures. Then the faults: the registry killed and restarted in the
 * middle of 10,000 calls, a kit killed with records in its buffer, a buffer past its bound;
 * and the attacks: a server reporting for another, a person posting usage, feedback on a server
 * the person cannot see, bad input. Needs `make build` (the registry and the kit run as
 * processes of their own, to be killed); no cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { ADMINS, DOCS, Identity, PRESTO, REGISTRY_AUDIENCE, SPARK, api, mcpClient, metric, registryNameOf, startKit, startKitProcess, startRegistryProcess, tempDir, type RegistryProcess } from "./fleet.js";
import { waitFor } from "../../../local/wait-for.js";

const KIT_AUDIENCE = "https://kit.example.com/mcp";
const P = registryNameOf(PRESTO);
const S = registryNameOf(SPARK);
let identity: Identity;
const cleanup: Array<() => Promise<unknown>> = [];
const clients: Client[] = [];

beforeAll(async () => {
  identity = await Identity.start();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  for (const f of cleanup.reverse()) await f().catch(() => undefined);
  await identity.stop();
});

const PEOPLE = { ann: ["ads-eng"], bob: ["finance"], cy: ["data-platform"] } as const;
type Person = keyof typeof PEOPLE;
const kitToken = (who: Person) => identity.person(who, [...PEOPLE[who]], KIT_AUDIENCE);
const registryToken = (who: string, groups: string[]) => identity.person(who, groups, REGISTRY_AUDIENCE);
const BOT = "agents/incident-bot";

async function connect(mcpUrl: string, token: string, confirm?: "accept" | "decline"): Promise<Client> {
  const c = await mcpClient(mcpUrl, token, confirm);
  clients.push(c);
  return c;
}
async function call(c: Client, tool: string, args: Record<string, unknown> = {}): Promise<boolean> {
  const r = (await c.callTool({ name: tool, arguments: args })) as CallToolResult;
  return r.isError !== true;
}

async function impact(registry: RegistryProcess, query: string, token?: string) {
  const r = await api<{ total: Record<string, number>; groups: Array<Record<string, unknown>> }>(registry.url, `/api/v1/impact?${query}`, token ?? (await registryToken("root", [ADMINS])));
  if (r.status !== 200) throw new Error(`impact answered ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}
const totalCalls = async (registry: RegistryProcess) => (await impact(registry, "groupBy=server")).total.calls;

const month = () => new Date().toISOString().slice(0, 7);

describe("figures from real calls by three people and a service account", () => {
  let registry: RegistryProcess;
  beforeAll(async () => {
    registry = await startRegistryProcess(identity, { file: join(tempDir("usage-db-"), "usage.sqlite") });
    cleanup.push(() => registry.stop());
    const presto = await startKit(identity, PRESTO, registry.url, tempDir("usage-buf-"));
    const spark = await startKit(identity, SPARK, registry.url, tempDir("usage-buf-"));
    cleanup.push(() => presto.stop(), () => spark.stop());
    const ann = await connect(presto.mcpUrl, await kitToken("ann"));
    const bob = await connect(presto.mcpUrl, await kitToken("bob"));
    const cy = await connect(presto.mcpUrl, await kitToken("cy"), "decline");
    const bot = await connect(presto.mcpUrl, await identity.serviceAccount(BOT, KIT_AUDIENCE));
    for (let i = 0; i < 3; i++) expect(await call(ann, "run_query", { sql: "select 1" })).toBe(true);
    for (let i = 0; i < 2; i++) expect(await call(bob, "revenue")).toBe(true);
    expect(await call(ann, "revenue")).toBe(false); // denied: finance only
    expect(await call(cy, "flaky")).toBe(false); // error
    for (let i = 0; i < 2; i++) expect(await call(bot, "run_query", { sql: "select 2" })).toBe(true);
    expect(await call(cy, "kill_query", { id: "q1" })).toBe(false); // declined by cy
    const annS = await connect(spark.mcpUrl, await kitToken("ann"));
    const cyS = await connect(spark.mcpUrl, await kitToken("cy"));
    for (let i = 0; i < 2; i++) expect(await call(annS, "run_query", { sql: "select 3" })).toBe(true);
    expect(await call(cyS, "run_query", { sql: "select 4" })).toBe(true);
    await waitFor("13 calls reach the registry", async () => (await totalCalls(registry)) === 13, 30_000);
  }, 60_000);

  it("by server, for the whole fleet", async () => {
    const r = await impact(registry, "groupBy=server");
    expect(r.total).toEqual({ calls: 13, okCalls: 10, people: 3, minutesSaved: 44, hoursSaved: 0.73 });
    expect(r.groups).toEqual([
      { key: P, server: P, calls: 10, okCalls: 7, people: 3, minutesSaved: 29, hoursSaved: 0.48 },
      { key: S, server: S, calls: 3, okCalls: 3, people: 2, minutesSaved: 15, hoursSaved: 0.25 },
    ]);
  });

  it("by tool, team and month", async () => {
    const byTool = await impact(registry, "groupBy=tool");
    expect(byTool.groups.map((g) => [g.server, g.tool, g.calls, g.okCalls, g.people, g.minutesSaved])).toEqual([
      [P, "flaky", 1, 0, 1, 0],
      [P, "kill_query", 1, 0, 1, 0],
      [P, "revenue", 3, 2, 2, 4],
      [P, "run_query", 5, 5, 1, 25],
      [S, "run_query", 3, 3, 2, 15],
    ]);
    const byTeam = await impact(registry, "groupBy=team");
    expect(byTeam.groups.map((g) => [g.team, g.calls, g.okCalls, g.people, g.minutesSaved])).toEqual([
      ["data-platform", 10, 7, 3, 29],
      ["ml", 3, 3, 2, 15],
    ]);
    const byMonth = await impact(registry, "groupBy=month");
    expect(byMonth.groups.map((g) => [g.month, g.calls, g.okCalls, g.people, g.minutesSaved])).toEqual([[month(), 13, 10, 3, 44]]);
  });

  it("shows each person the servers they can see, and reviewers the whole fleet", async () => {
    const bob = await impact(registry, "groupBy=server", await registryToken("bob", ["finance"]));
    expect(bob.groups.map((g) => g.server)).toEqual([P]);
    expect(bob.total.calls).toBe(10);
    const nobody = await impact(registry, "groupBy=server", await registryToken("zed", ["sales"]));
    expect(nobody.total.calls).toBe(0);
    const reviewer = await impact(registry, "groupBy=server", await registryToken("rita", ["security-reviewers"]));
    expect(reviewer.total.calls).toBe(13);
    const asked = await api(registry.url, `/api/v1/impact?server=${encodeURIComponent(S)}`, await registryToken("bob", ["finance"]));
    expect(asked.status).toBe(400);
    expect(asked.body).toMatchObject({ parameter: "server" });
  });

  it("takes feedback from people who can see the server, one per tool and day, and calibrates by it", async () => {
    const post = async (token: string, body: unknown) => api(registry.url, "/api/v1/feedback", token, { method: "POST", body: JSON.stringify(body) });
    const ann = await registryToken("ann", ["ads-eng"]);
    expect((await post(ann, { server: P, tool: "run_query", minutesSaved: 10, helpful: true })).status).toBe(201);
    expect(await post(ann, { server: P, tool: "run_query", minutesSaved: 12, helpful: true, comment: "saved me a dashboard" })).toMatchObject({ status: 200, body: { replaced: true } });
    expect((await post(await registryToken("cy", ["data-platform"]), { server: P, tool: "run_query", minutesSaved: 20, helpful: false })).status).toBe(201);
    const summary = await api<{ tools: Array<Record<string, unknown>> }>(registry.url, `/api/v1/feedback?server=${encodeURIComponent(P)}`, ann);
    expect(summary.body.tools.find((t) => t.tool === "run_query")).toEqual({ tool: "run_query", declaredMinutes: 5, feedbackCount: 2, feedbackMedianMinutes: 16, helpful: 1 });
    const calibrated = await impact(registry, "groupBy=tool&estimate=feedback");
    // presto run_query: 5 successful calls at the median 16 minutes; the rest as declared.
    expect(calibrated.groups.find((g) => g.server === P && g.tool === "run_query")).toMatchObject({ minutesSaved: 80 });
    expect(calibrated.total.minutesSaved).toBe(44 - 25 + 80);

    // Refused: a person who cannot see the server, a service account, an unknown tool.
    const bobOnSpark = await post(await registryToken("bob", ["finance"]), { server: S, tool: "run_query", minutesSaved: 5, helpful: true });
    expect(bobOnSpark).toMatchObject({ status: 404, body: { parameter: "server" } });
    expect((await post(await identity.serviceAccount(BOT, REGISTRY_AUDIENCE), { server: P, tool: "run_query", minutesSaved: 5, helpful: true })).status).toBe(403);
    expect(await post(ann, { server: P, tool: "drop_tables", minutesSaved: 5, helpful: true })).toMatchObject({ status: 400, body: { parameter: "tool" } });
    const after = await api<{ tools: Array<Record<string, unknown>> }>(registry.url, `/api/v1/feedback?server=${encodeURIComponent(S)}`, ann);
    expect(after.body.tools.every((t) => t.feedbackCount === 0)).toBe(true);
  });

  it("refuses bad input with a 400 naming the field", async () => {
    const ann = await registryToken("ann", ["ads-eng"]);
    const post = (body: unknown) => api(registry.url, "/api/v1/feedback", ann, { method: "POST", body: JSON.stringify(body) });
    expect((await post({ server: P, tool: "run_query", minutesSaved: 1441, helpful: true })).body).toMatchObject({ parameter: "minutesSaved" });
    expect((await post({ server: P, tool: "run_query", minutesSaved: 5 })).body).toMatchObject({ parameter: "helpful" });
    expect((await post({ server: P, tool: "run_query", minutesSaved: 5, helpful: true, extra: 1 })).body).toMatchObject({ parameter: "body" });
    for (const [query, parameter] of [
      ["groupBy=year", "groupBy"],
      ["from=2026-13-01", "from"],
      ["from=2026-11-10&to=2026-11-01", "from"],
      ["estimate=guess", "estimate"],
    ] as const) {
      const r = await api(registry.url, `/api/v1/impact?${query}`, ann);
      expect([r.status, r.body]).toEqual([400, expect.objectContaining({ parameter })]);
    }
  });
});

describe("who may report usage", () => {
  let registry: RegistryProcess;
  const record = (server: string, over: Record<string, unknown> = {}) => ({
    id: randomUUID(),
    server,
    tool: "run_query",
    caller: "ann",
    callerKind: "person",
    outcome: "ok",
    durationMs: 3,
    minutesSaved: 5,
    at: new Date().toISOString(),
    ...over,
  });
  const post = (token: string, body: unknown) => api(registry.url, "/api/v1/usage", token, { method: "POST", body: JSON.stringify(body) });
  const dbFile = join(tempDir("usage-db-"), "usage.sqlite");
  beforeAll(async () => {
    registry = await startRegistryProcess(identity, { file: dbFile });
    cleanup.push(() => registry.stop());
  });

  it("is described in /openapi.json", async () => {
    const doc = await api<{ paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown> } }> } }>> }>(registry.url, "/openapi.json", undefined);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(["/api/v1/usage", "/api/v1/impact", "/api/v1/feedback"]));
    expect(Object.keys(doc.body.paths["/api/v1/feedback"]!.post!.requestBody!.content["application/json"]!.schema.properties!)).toEqual(["server", "tool", "minutesSaved", "helpful", "comment"]);
  });

  it("a server's own service account reports its calls, once", async () => {
    const spark = await identity.serviceAccount("ml/spark", REGISTRY_AUDIENCE);
    const batch = { records: [record(S), record(S)] };
    expect(await post(spark, batch)).toEqual({ status: 200, body: { accepted: 2, duplicates: 0 } });
    expect(await post(spark, batch)).toEqual({ status: 200, body: { accepted: 0, duplicates: 2 } });
    expect(await totalCalls(registry)).toBe(2);
  });

  it("takes a remote server's calls from the service account named after it in its namespace", async () => {
    const docs = await identity.serviceAccount(`${DOCS.namespace}/${DOCS.name}`, REGISTRY_AUDIENCE);
    expect(await post(docs, { records: [record(registryNameOf(DOCS))] })).toEqual({ status: 200, body: { accepted: 1, duplicates: 0 } });
    expect((await post(await identity.serviceAccount(`${DOCS.namespace}/docs-writer`, REGISTRY_AUDIENCE), { records: [record(registryNameOf(DOCS))] })).status).toBe(403);
    expect((await post(docs, { records: [record(S)] })).status).toBe(403);
    expect(await totalCalls(registry)).toBe(3);
  });

  it("refuses another server's calls, people, other service accounts and forged tokens; stores nothing", async () => {
    const spark = await identity.serviceAccount("ml/spark", REGISTRY_AUDIENCE);
    const mixed = await post(spark, { records: [record(S), record(P)] });
    expect(mixed).toMatchObject({ status: 403, body: { parameter: "records[1].server" } });
    expect((await post(await registryToken("ann", ["ads-eng", ADMINS]), { records: [record(P)] })).status).toBe(403);
    expect((await post(await identity.serviceAccount(BOT, REGISTRY_AUDIENCE), { records: [record(P)] })).status).toBe(403);
    expect((await post(await identity.serviceAccount(`${SPARK.namespace}/presto`, REGISTRY_AUDIENCE), { records: [record(P)] })).status).toBe(403);
    expect((await post(await identity.serviceAccount("ml/spark", KIT_AUDIENCE), { records: [record(S)] })).status).toBe(401);
    expect((await post("", { records: [record(S)] })).status).toBe(401);
    expect(await totalCalls(registry)).toBe(3);
  });

  it("stores callers only as a keyed hash; only an admin looks up who a hash stands for", async () => {
    const spark = await identity.serviceAccount("ml/spark", REGISTRY_AUDIENCE);
    const mine = record(S, { caller: "zoe@example.com" });
    expect((await post(spark, { records: [mine, record(S, { caller: "ml/trainer", callerKind: "service" })] })).status).toBe(200);
    const db = new DatabaseSync(dbFile, { readOnly: true });
    const [row] = db.prepare("SELECT caller FROM usage_records WHERE id = ?").all(mine.id) as Array<{ caller: string }>;
    const names = db.prepare("SELECT COUNT(*) AS n FROM usage_records WHERE caller LIKE '%zoe%' OR caller LIKE '%trainer%'").get() as { n: number };
    db.close();
    expect(row!.caller).toMatch(/^[0-9a-f]{64}$/);
    expect(names.n).toBe(0);
    const lookup = async (token: string, hash = row!.caller) => api(registry.url, `/api/v1/usage/callers/${hash}`, token);
    expect(await lookup(await registryToken("root", [ADMINS]))).toEqual({ status: 200, body: { caller: row!.caller, callerKind: "person", name: "zoe@example.com" } });
    expect((await lookup(await registryToken("rita", ["security-reviewers"]))).status).toBe(403);
    expect((await lookup(await registryToken("zoe@example.com", ["ads-eng"]))).status).toBe(403);
    expect((await lookup(spark)).status).toBe(403);
    expect((await lookup(await registryToken("root", [ADMINS]), "f".repeat(64))).status).toBe(404);
    expect((await lookup(await registryToken("root", [ADMINS]), "zoe")).body).toMatchObject({ parameter: "hash" });
  });

  it("refuses bad records with a 400 naming the field, and stores none of the batch", async () => {
    const spark = await identity.serviceAccount("ml/spark", REGISTRY_AUDIENCE);
    expect((await post(spark, { records: [record(S), record(S, { outcome: "great" })] })).body).toMatchObject({ parameter: "records[1].outcome" });
    expect((await post(spark, { records: [record(S, { caller: "" })] })).body).toMatchObject({ parameter: "records[0].caller" });
    expect((await post(spark, { records: [record(S, { caller: "x".repeat(321) })] })).body).toMatchObject({ parameter: "records[0].caller" });
    expect((await post(spark, { records: [record(S, { minutesSaved: -1 })] })).body).toMatchObject({ parameter: "records[0].minutesSaved" });
    expect((await post(spark, { records: [record(S, { at: new Date(Date.now() + 3 * 86_400_000).toISOString() })] })).body).toMatchObject({ parameter: "records[0].at" });
    expect((await post(spark, { records: [] })).body).toMatchObject({ parameter: "records" });
    expect((await post(spark, {})).body).toMatchObject({ parameter: "records" });
    expect(await totalCalls(registry)).toBe(5);
  });
});

describe("faults: nothing lost, nothing counted twice", () => {
  it(`the registry killed and restarted during ${Number(process.env.USAGE_FAULT_CALLS ?? 10_000).toLocaleString("en-US")} calls`, async () => {
    const N = Number(process.env.USAGE_FAULT_CALLS ?? 10_000);
    const file = join(tempDir("usage-db-"), "usage.sqlite");
    let registry = await startRegistryProcess(identity, { file });
    const port = registry.port;
    cleanup.push(() => registry.stop());
    const kit = await startKit(identity, PRESTO, registry.url, tempDir("usage-buf-"));
    cleanup.push(() => kit.stop());
    const callers = [await connect(kit.mcpUrl, await kitToken("ann")), await connect(kit.mcpUrl, await kitToken("bob")), await connect(kit.mcpUrl, await kitToken("cy")), await connect(kit.mcpUrl, await identity.serviceAccount(BOT, KIT_AUDIENCE))];
    let done = 0;
    let maxBuffered = 0;
    let restarts: Promise<void> | undefined;
    const killAt = Math.floor(N / 4);
    const restartAt = Math.floor((N * 3) / 5);
    await Promise.all(
      callers.map(async (c, i) => {
        for (let k = i; k < N; k += callers.length) {
          if (!(await call(c, "run_query", { sql: `select ${k}` }))) throw new Error(`call ${k} failed`);
          done++;
          if (done === killAt) {
            restarts = (async () => {
              await registry.kill();
              // Wait, with the registry down, until the kit holds what it could not deliver.
              await waitFor("calls go on while the registry is down", async () => done >= restartAt, 600_000);
              maxBuffered = await metric(kit.metricsUrl, "toolfleet_usage_records_buffered");
              registry = await startRegistryProcess(identity, { file }, port);
            })();
          }
        }
      }),
    );
    await restarts;
    await waitFor(`${N} calls reach the registry`, async () => (await totalCalls(registry)) === N, 180_000);
    const r = await impact(registry, "groupBy=server");
    expect(r.total).toEqual({ calls: N, okCalls: N, people: 3, minutesSaved: 5 * N, hoursSaved: Math.round((5 * N) / 60 * 100) / 100 });
    expect(maxBuffered).toBeGreaterThan(0);
    await waitFor("the buffer empties", async () => (await metric(kit.metricsUrl, "toolfleet_usage_records_buffered")) === 0, 30_000);
    expect(await metric(kit.metricsUrl, "toolfleet_usage_records_dropped_total")).toBe(0);
    expect(await metric(kit.metricsUrl, "toolfleet_usage_records_total")).toBe(N);
    expect(await metric(kit.metricsUrl, "toolfleet_usage_records_delivered_total")).toBe(N);
    process.stdout.write(`usage fault run: ${N} calls, registry down for ${restartAt - killAt} of them, at most ${maxBuffered} buffered, duplicates on redelivery ${await metric(kit.metricsUrl, "toolfleet_usage_records_duplicate_total")}\n`);
  }, 900_000);

  it("a kit killed with records in its buffer delivers them after its restart", async () => {
    const file = join(tempDir("usage-db-"), "usage.sqlite");
    let registry = await startRegistryProcess(identity, { file });
    const port = registry.port;
    await registry.kill(); // the registry is away while the calls happen
    const buffer = tempDir("usage-buf-");
    let kit = await startKitProcess(identity, PRESTO, `http://127.0.0.1:${port}`, buffer);
    cleanup.push(() => kit.stop());
    const ann = await mcpClient(kit.mcpUrl, await kitToken("ann"));
    const bot = await mcpClient(kit.mcpUrl, await identity.serviceAccount(BOT, KIT_AUDIENCE));
    for (let i = 0; i < 150; i++) {
      expect(await call(ann, "run_query", { sql: "select 1" })).toBe(true);
      expect(await call(bot, "revenue")).toBe(false); // denied: people only
    }
    await waitFor("300 records on disk", async () => (await metric(kit.metricsUrl, "toolfleet_usage_records_buffered")) === 300, 30_000);
    await kit.kill();
    await ann.close().catch(() => undefined);
    await bot.close().catch(() => undefined);
    registry = await startRegistryProcess(identity, { file }, port);
    cleanup.push(() => registry.stop());
    expect(await totalCalls(registry)).toBe(0);
    kit = await startKitProcess(identity, PRESTO, registry.url, buffer);
    await waitFor("the buffered records reach the registry", async () => (await totalCalls(registry)) === 300, 60_000);
    const r = await impact(registry, "groupBy=tool");
    expect(r.total).toEqual({ calls: 300, okCalls: 150, people: 1, minutesSaved: 750, hoursSaved: 12.5 });
    expect(r.groups.map((g) => [g.tool, g.calls, g.okCalls])).toEqual([
      ["revenue", 150, 0],
      ["run_query", 150, 150],
    ]);
    await waitFor("the buffer empties", async () => (await metric(kit.metricsUrl, "toolfleet_usage_records_buffered")) === 0, 30_000);
  }, 180_000);

  it("past the buffer's bound, says exactly how many records were dropped", async () => {
    const file = join(tempDir("usage-db-"), "usage.sqlite");
    const registry = await startRegistryProcess(identity, { file });
    const port = registry.port;
    await registry.kill();
    const buffer = tempDir("usage-buf-");
    const kit = await startKit(identity, SPARK, `http://127.0.0.1:${port}`, buffer, { maxRecords: 5 });
    const ann = await mcpClient(kit.mcpUrl, await kitToken("ann"));
    for (let i = 0; i < 8; i++) expect(await call(ann, "run_query", { sql: "select 1" })).toBe(true);
    await waitFor("3 dropped", async () => (await metric(kit.metricsUrl, "toolfleet_usage_records_dropped_total")) === 3, 10_000);
    expect(await metric(kit.metricsUrl, "toolfleet_usage_records_buffered")).toBe(5);
    await ann.close();
    await kit.stop();
    const drops = kit.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === "usage buffer full: records dropped");
    expect(drops.at(-1)).toMatchObject({ droppedTotal: 3, maxRecords: 5 });
    const back = await startRegistryProcess(identity, { file }, port);
    cleanup.push(() => back.stop());
    const again = await startKit(identity, SPARK, back.url, buffer, { maxRecords: 5 });
    cleanup.push(() => again.stop());
    await waitFor("the 5 kept records arrive", async () => (await totalCalls(back)) === 5, 30_000);
    expect((await impact(back, "groupBy=server")).total).toMatchObject({ calls: 5, okCalls: 5 });
  }, 120_000);
});
