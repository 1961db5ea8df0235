import { afterEach, describe, expect, it } from "@jest/globals";
import { argsDigest } from "../audit.js";
import { waitFor } from "../../../local/wait-for.js";
import { basePolicy, call, connect, initialize, metricsText, ran, sample, saToken, startHarness, type Harness } from "./fixture.js";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});
const ranOf = (tool: string) => ran[tool] ?? 0;
const KILL = { server: "presto", tool: "kill_query" };

describe("sensitive tools need a person's confirmation", () => {
  it("runs once after an accepted confirmation that shows exactly what will happen", async () => {
    h = await startHarness();
    const dev = await connect(h, await h.idp.userToken("dev", ["data-platform"]), () => ({ action: "accept", content: {} }));
    const before = ranOf("kill_query");
    expect(await call(dev, "kill_query", { id: "20240101_000_abc" })).toEqual({ isError: false, text: "killed 20240101_000_abc" });
    expect(dev.asked).toEqual(["Kill query 20240101_000_abc?"]);
    expect(ranOf("kill_query")).toBe(before + 1);
    expect(h.audit.records.map((r) => [r.tool, r.outcome, r.elicitation])).toEqual([["kill_query", "ok", "accept"]]);
  });

  it("runs nothing when declined, cancelled, unanswered or unaskable, and says why", async () => {
    h = await startHarness({ elicitationTimeoutMs: 300 });
    const token = await h.idp.userToken("dev", ["data-platform"]);
    const before = ranOf("kill_query");
    const answers = {
      decline: await connect(h, token, () => ({ action: "decline" })),
      cancel: await connect(h, token, () => ({ action: "cancel" })),
      timeout: await connect(h, token, () => new Promise(() => {})),
      unsupported: await connect(h, token),
    };
    const texts: Record<string, string> = {};
    for (const [name, client] of Object.entries(answers)) {
      const result = await call(client, "kill_query", { id: "q1" });
      expect(result.isError).toBe(true);
      texts[name] = result.text;
    }
    expect(texts).toEqual({
      decline: "Not run: kill_query was declined by the person asked to confirm it.",
      cancel: "Not run: kill_query was cancelled by the person asked to confirm it.",
      timeout: "Not run: kill_query was not confirmed in time.",
      unsupported: "Not run: kill_query needs a person to confirm it, and this client cannot ask (it does not support elicitation).",
    });
    expect(ranOf("kill_query")).toBe(before);
    expect(h.audit.records.map((r) => [r.outcome, r.elicitation])).toEqual([
      ["declined", "decline"],
      ["declined", "cancel"],
      ["declined", "timeout"],
      ["declined", "unsupported"],
    ]);
    const m = await metricsText(h);
    expect(sample(m, "toolfleet_tool_calls_total", { ...KILL, outcome: "declined" })).toBe(4);
    expect(sample(m, "toolfleet_tool_calls_total", { ...KILL, outcome: "ok" })).toBe(0);
    for (const outcome of ["decline", "cancel", "timeout", "unsupported"]) {
      expect(sample(m, "toolfleet_elicitations_total", { ...KILL, outcome })).toBe(1);
    }
    expect(sample(m, "toolfleet_minutes_saved_total", KILL)).toBe(0);
  });
});

describe("audit and metrics", () => {
  it("match exactly the calls made", async () => {
    h = await startHarness();
    const ana = await connect(h, await h.idp.userToken("ana", ["ads-eng", "finance"]));
    const bot = await connect(h, await saToken(h, "agents", "incident-bot"));
    await call(ana, "run_query", { sql: "select 1" });
    await call(ana, "run_query", { sql: "select 2" });
    await call(ana, "flaky");
    await call(ana, "kill_query", { id: "q" }); // denied: not in data-platform
    await call(bot, "run_query", { sql: "select 3" });
    await call(bot, "revenue"); // read-only, but authorize() wants a finance person

    const lines = h.audit.records.map(({ caller, groups, tool, decision, outcome }) => ({ caller, groups, tool, decision, outcome }));
    const ana_ = { kind: "user", subject: "ana" } as const;
    const bot_ = { kind: "serviceAccount", serviceAccount: "agents/incident-bot" } as const;
    expect(lines).toEqual([
      { caller: ana_, groups: ["ads-eng", "finance"], tool: "run_query", decision: "allow", outcome: "ok" },
      { caller: ana_, groups: ["ads-eng", "finance"], tool: "run_query", decision: "allow", outcome: "ok" },
      { caller: ana_, groups: ["ads-eng", "finance"], tool: "flaky", decision: "allow", outcome: "error" },
      { caller: ana_, groups: ["ads-eng", "finance"], tool: "kill_query", decision: "deny", outcome: "denied" },
      { caller: bot_, groups: [], tool: "run_query", decision: "allow", outcome: "ok" },
      { caller: bot_, groups: [], tool: "revenue", decision: "deny", outcome: "denied" },
    ]);
    const first = h.audit.records[0]!;
    expect(first.argsSha256).toBe(argsDigest({ sql: "select 1" }));
    expect(JSON.stringify(h.audit.records)).not.toContain("select 1");
    expect(first.reason).toBe("member of group ads-eng, which may use this server");
    expect(first.durationMs).toBeGreaterThan(0);

    const m = await metricsText(h);
    const calls = (tool: string, outcome: string) => sample(m, "toolfleet_tool_calls_total", { server: "presto", tool, outcome });
    expect([calls("run_query", "ok"), calls("flaky", "error"), calls("kill_query", "denied"), calls("revenue", "denied")]).toEqual([3, 1, 1, 1]);
    expect(calls("run_query", "error") + calls("flaky", "ok") + calls("revenue", "ok")).toBe(0);
    expect(sample(m, "toolfleet_minutes_saved_total", { server: "presto", tool: "run_query" })).toBe(15);
    expect(sample(m, "toolfleet_minutes_saved_total", { server: "presto", tool: "flaky" })).toBe(0);
    expect(sample(m, "toolfleet_tool_call_duration_seconds_count", { server: "presto", tool: "run_query" })).toBe(3);
    expect(sample(m, "toolfleet_active_callers", { server: "presto", kind: "user" })).toBe(1);
    expect(sample(m, "toolfleet_active_callers", { server: "presto", kind: "serviceAccount" })).toBe(1);
  });
});

describe("the policy file", () => {
  it("takes effect without a restart when the ConfigMap volume swaps it, and a bad file keeps the last good one", async () => {
    h = await startHarness();
    const ana = await connect(h, await h.idp.userToken("ana", ["ads-eng"]));
    expect((await ana.listTools()).tools.map((t) => t.name)).toContain("run_query");

    const narrowed = basePolicy();
    narrowed.tools = narrowed.tools.map((t) => (t.name === "run_query" ? { ...t, allowedGroups: ["finance"] } : t));
    h.volume.write(narrowed);
    await waitFor("run_query gone from the list", async () => !(await ana.listTools()).tools.some((t) => t.name === "run_query"));
    expect(await call(ana, "run_query", { sql: "x" })).toEqual({ isError: true, text: "Denied: tool run_query is limited to groups finance, and the caller is in none of them" });

    h.volume.write('{"server": {"namespace": "data-platform"');
    await waitFor("the invalid policy file rejected", () => h!.logs.some((l) => l.includes("policy file rejected")));
    h.volume.write({ ...narrowed, access: { ...narrowed.access, allowedGroups: ["finance", "data-platform", "hr"] }, tools: [{ name: "run_query", allowedGroups: ["nope"] }] });
    await waitFor("the second invalid policy file rejected", () => h!.logs.filter((l) => l.includes("policy file rejected")).length === 2);
    const rejected = h.logs.filter((l) => l.includes("policy file rejected")).map((l) => JSON.parse(l) as { error: string });
    expect(rejected[0]!.error).toMatch(/^invalid server policy: not valid JSON/);
    expect(rejected[1]!.error).toBe('invalid server policy: tools[0].allowedGroups[0]: group "nope" is not among access.allowedGroups; a tool can only narrow the server\'s groups');
    // Still the narrowed policy: ana is admitted and still cannot run queries.
    expect(await call(ana, "run_query", { sql: "x" })).toMatchObject({ isError: true, text: expect.stringContaining("limited to groups finance") });
    expect((await fetch(`${h.server.url}/readyz`)).status).toBe(200);
    const m = await metricsText(h);
    expect(sample(m, "toolfleet_policy_reloads_total", { server: "presto", result: "loaded" })).toBe(2);
    expect(sample(m, "toolfleet_policy_reloads_total", { server: "presto", result: "invalid" })).toBe(2);
  });

  it("keeps the server unready, and the MCP endpoint closed, until a policy has loaded", async () => {
    h = await startHarness({}, null);
    const token = `Bearer ${await h.idp.userToken("ana", ["ads-eng"])}`;
    const ready = await fetch(`${h.server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reason: string }).reason).toMatch(/^cannot read policy file .*policy\.json: ENOENT/);
    expect((await initialize(h, { authorization: token })).status).toBe(503);
    h.volume.write(basePolicy());
    await waitFor("the server ready", async () => (await fetch(`${h!.server.url}/readyz`)).status === 200);
    expect((await initialize(h, { authorization: token })).status).toBe(200);
  });
});

describe("shutdown", () => {
  it("lets a running call finish, then refuses new work", async () => {
    h = await startHarness();
    const ana = await connect(h, await h.idp.userToken("ana", ["ads-eng"]));
    const running = call(ana, "slow", { ms: 400 });
    await new Promise((r) => setTimeout(r, 100)); // the call is running
    const stopped = h.server.stop();
    expect(await running).toEqual({ isError: false, text: "done" });
    await stopped;
    await expect(fetch(`${h.server.url}/healthz`)).rejects.toThrow();
    expect(h.audit.records.map((r) => [r.tool, r.outcome])).toEqual([["slow", "ok"]]);
  });
});
