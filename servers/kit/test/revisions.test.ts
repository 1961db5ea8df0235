/**
 * Both protocol revisions on one endpoint: the SDK's 2026-07-28 client (stateless,
 * confirmation by input-required) and its 2025-11-25 client (sessions, confirmation by
 * elicitation) against the same kit server; what an attacker does with a confirmation (replay
 * it, alter it, forge it, use another caller's); the per-caller cap on 2025 sessions.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { connectManual, connectModern, connectRevision, isQuestion, REVISIONS, type RevisionClient } from "../../../test/mcp-clients.js";
import { ran, startHarness, type Harness } from "./fixture.js";

let h: Harness | undefined;
const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close().catch(() => undefined)));
  await h?.stop();
  h = undefined;
});
const ranOf = (tool: string) => ran[tool] ?? 0;
const keep = <T extends { close(): Promise<void> }>(c: T): T => (opened.push(c), c);

describe.each(REVISIONS)("a %s client", (revision) => {
  it("negotiates its revision, sees the tools its groups may use, and is denied the others", async () => {
    h = await startHarness();
    const analyst = keep(await connectRevision(revision, { url: h.mcpUrl, token: await h.idp.userToken("ana", ["ads-eng"]) }));
    expect(analyst.protocolVersion()).toBe(revision);
    expect((await analyst.listTools()).sort()).toEqual(["flaky", "revenue", "run_query", "slow"]);
    expect(await analyst.call("run_query", { sql: "select 1" })).toMatchObject({ isError: false, text: "rows for select 1" });
    const before = ranOf("kill_query");
    const denied = await analyst.call("kill_query", { id: "q1" });
    expect(denied.isError).toBe(true);
    expect(denied.text).toMatch(/^Denied: /);
    expect((await analyst.call("revenue")).text).toBe("Denied: revenue tables are for finance only");
    expect(ranOf("kill_query")).toBe(before);
    expect(h.audit.records.map((r) => [r.tool, r.outcome])).toEqual([
      ["run_query", "ok"],
      ["kill_query", "denied"],
      ["revenue", "denied"],
    ]);
  });

  it("runs a sensitive tool once after the person accepts, and not when they decline or cannot be asked", async () => {
    h = await startHarness();
    const token = await h.idp.userToken("dev", ["data-platform"]);
    const yes = keep(await connectRevision(revision, { url: h.mcpUrl, token, answer: "accept" }));
    const no = keep(await connectRevision(revision, { url: h.mcpUrl, token, answer: "decline" }));
    const mute = keep(await connectRevision(revision, { url: h.mcpUrl, token }));
    const before = ranOf("kill_query");
    expect(await yes.call("kill_query", { id: "q1" })).toMatchObject({ isError: false, text: "killed q1" });
    expect(yes.asked).toEqual(["Kill query q1?"]);
    expect(await no.call("kill_query", { id: "q2" })).toMatchObject({ isError: true, text: "Not run: kill_query was declined by the person asked to confirm it." });
    expect((await mute.call("kill_query", { id: "q3" })).text).toBe(
      "Not run: kill_query needs a person to confirm it, and this client cannot ask (it does not support elicitation).",
    );
    expect(ranOf("kill_query")).toBe(before + 1);
    expect(h.audit.records.map((r) => [r.outcome, r.elicitation])).toEqual([
      ["ok", "accept"],
      ["declined", "decline"],
      ["declined", "unsupported"],
    ]);
  });
});

describe("a 2026-07-28 confirmation, as an attacker handles it", () => {
  const KILL = { id: "20240101_000_abc" };

  async function asked(token: string) {
    const client = keep(await connectManual(h!.mcpUrl, token));
    const question = await client.ask("kill_query", KILL);
    if (!isQuestion(question)) throw new Error(`expected a confirmation, got ${question.text}`);
    expect(question.message).toBe("Kill query 20240101_000_abc?");
    return { client, question };
  }

  it("is usable once: a replayed answer, accepted or declined, never runs the tool again", async () => {
    h = await startHarness();
    const { client, question } = await asked(await h.idp.userToken("dev", ["data-platform"]));
    const before = ranOf("kill_query");
    expect(await client.answer("kill_query", KILL, "accept", question.requestState)).toMatchObject({ isError: false, text: "killed 20240101_000_abc" });
    const replay = await client.answer("kill_query", KILL, "accept", question.requestState);
    expect(replay).toMatchObject({ isError: true, text: "Not run: kill_query was not run: its confirmation is not valid: the confirmation was already used." });
    const declined = await asked(await h.idp.userToken("dev", ["data-platform"]));
    expect((await declined.client.answer("kill_query", KILL, "decline", declined.question.requestState)).isError).toBe(true);
    expect((await declined.client.answer("kill_query", KILL, "accept", declined.question.requestState)).text).toMatch(/already used/);
    expect(ranOf("kill_query")).toBe(before + 1);
    expect(h.audit.records.map((r) => [r.outcome, r.elicitation])).toEqual([
      ["ok", "accept"],
      ["declined", "invalid"],
      ["declined", "decline"],
      ["declined", "invalid"],
    ]);
  });

  it("is bound to the exact arguments and tool: an answer carried to other arguments does not run", async () => {
    h = await startHarness();
    const { client, question } = await asked(await h.idp.userToken("dev", ["data-platform"]));
    const before = ranOf("kill_query");
    const other = await client.answer("kill_query", { id: "20240101_000_xyz" }, "accept", question.requestState);
    expect(other).toMatchObject({ isError: true });
    expect(other.text).toMatch(/for another tool or other arguments/);
    expect(ranOf("kill_query")).toBe(before);
  });

  it("cannot be forged or altered: a changed state is refused", async () => {
    h = await startHarness();
    const { client, question } = await asked(await h.idp.userToken("dev", ["data-platform"]));
    const [body, mac] = question.requestState.split(".") as [string, string];
    const claim = JSON.parse(Buffer.from(body, "base64url").toString()) as Record<string, unknown>;
    const stretched = Buffer.from(JSON.stringify({ ...claim, e: Date.now() + 86_400_000 })).toString("base64url");
    const before = ranOf("kill_query");
    for (const state of [`${stretched}.${mac}`, `${body}.${mac.slice(0, -2)}AA`, "not-a-state", `${body}`]) {
      const result = await client.answer("kill_query", KILL, "accept", state);
      expect(result.isError).toBe(true);
      expect(result.text).toMatch(/not issued by this server or was altered/);
    }
    expect(ranOf("kill_query")).toBe(before);
  });

  it("belongs to the caller it was given to: another caller's answer does not run", async () => {
    h = await startHarness();
    const { question } = await asked(await h.idp.userToken("dev", ["data-platform"]));
    const thief = keep(await connectManual(h.mcpUrl, await h.idp.userToken("mallory", ["data-platform"])));
    const before = ranOf("kill_query");
    const stolen = await thief.answer("kill_query", KILL, "accept", question.requestState);
    expect(stolen.isError).toBe(true);
    expect(stolen.text).toMatch(/given to another caller/);
    expect(ranOf("kill_query")).toBe(before);
  });

  it("expires: an answer after the confirmation's time runs nothing", async () => {
    h = await startHarness({ elicitationTimeoutMs: 1 });
    const { client, question } = await asked(await h.idp.userToken("dev", ["data-platform"]));
    const claim = JSON.parse(Buffer.from(question.requestState.split(".")[0]!, "base64url").toString()) as { e: number };
    // Wait on the condition (the expiry has passed on this clock), not a fixed time.
    await new Promise<void>((resolve) => {
      const check = () => (Date.now() > claim.e ? resolve() : setImmediate(check));
      check();
    });
    const result = await client.answer("kill_query", KILL, "accept", question.requestState);
    expect(result.text).toMatch(/has expired/);
  });
});

describe("2025-11-25 sessions per caller", () => {
  it("are capped, with an error that says so, while other callers still get theirs", async () => {
    h = await startHarness({ maxSessionsPerCaller: 3 });
    const hog = await h.idp.userToken("hog", ["ads-eng"]);
    const held: RevisionClient[] = [];
    for (let i = 0; i < 3; i++) held.push(keep(await connectRevision("2025-11-25", { url: h.mcpUrl, token: hog })));
    await expect(connectRevision("2025-11-25", { url: h.mcpUrl, token: hog })).rejects.toThrow(/too many open sessions for user:hog: 3 of at most 3/);
    const other = keep(await connectRevision("2025-11-25", { url: h.mcpUrl, token: await h.idp.userToken("ana", ["ads-eng"]) }));
    expect(await other.listTools()).toContain("run_query");
    // A 2026 client holds no session, so the cap does not touch it.
    const modern = keep(await connectModern({ url: h.mcpUrl, token: hog }));
    expect((await modern.call("run_query", { sql: "select 2" })).text).toBe("rows for select 2");
    await held[0]!.close();
    keep(await connectRevision("2025-11-25", { url: h.mcpUrl, token: hog }));
  });

  it("default to a cap well below the server's total", async () => {
    h = await startHarness();
    const hog = await h.idp.userToken("hog", ["ads-eng"]);
    let refused: unknown;
    for (let i = 0; i < 25 && !refused; i++) {
      try {
        keep(await connectRevision("2025-11-25", { url: h.mcpUrl, token: hog }));
      } catch (err) {
        refused = err;
      }
    }
    expect(String(refused)).toMatch(/too many open sessions for user:hog: 20 of at most 20/);
  });
});
