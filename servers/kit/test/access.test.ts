import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { PUBLIC_URL, RESOURCE, call, connect, initialize, ran, saToken, startHarness, type Harness } from "./fixture.js";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h.stop());

const METADATA = `${PUBLIC_URL}/.well-known/oauth-protected-resource/mcp`;
const listNames = async (token: string) => (await (await connect(h, token)).listTools()).tools.map((t) => t.name).sort();

describe("who may connect", () => {
  it("admits a person in one of the server's groups", async () => {
    const client = await connect(h, await h.idp.userToken("ana", ["ads-eng"]));
    expect(client.getServerVersion()).toMatchObject({ name: "presto", version: "1.4.0" });
    await client.close();
  });

  it("refuses a person in none of its groups with 403 and the reason", async () => {
    const res = await initialize(h, { authorization: `Bearer ${await h.idp.userToken("eve", ["marketing"])}` });
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      "forbidden: not a member of any group allowed on this server (allowed: ads-eng, finance, data-platform)",
    );
  });

  it("refuses a service account the policy does not name, admits one it does", async () => {
    expect((await initialize(h, { authorization: `Bearer ${await saToken(h, "agents", "other-bot")}` })).status).toBe(403);
    expect((await initialize(h, { authorization: `Bearer ${await saToken(h, "agents", "incident-bot")}` })).status).toBe(200);
  });

  it("answers a missing token with 401 pointing at the protected-resource metadata", async () => {
    const res = await initialize(h, {});
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe(`Bearer resource_metadata="${METADATA}"`);
  });

  it("refuses the whole token attack set with 401, invalid_token and the reason", async () => {
    const seen: Record<string, string> = {};
    for (const [name, token] of Object.entries(await h.idp.attackSet())) {
      const res = await initialize(h, { authorization: `Bearer ${token}` });
      expect(res.status).toBe(401);
      const challenge = res.headers.get("www-authenticate") ?? "";
      expect(challenge.startsWith(`Bearer resource_metadata="${METADATA}", error="invalid_token", error_description=`)).toBe(true);
      seen[name] = /error_description="([^"]*)"/.exec(challenge)?.[1] ?? "";
    }
    expect(seen).toMatchObject({ expired: "token expired", "alg none": "token signing algorithm not allowed", "wrong audience": "token not issued for this audience" });
    expect(Object.keys(seen)).toHaveLength(11);
  });

  it("serves RFC 9728 metadata naming the resource and the issuer", async () => {
    for (const path of ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"]) {
      const body = await (await fetch(`${h.server.url}${path}`)).json();
      expect(body).toEqual({ resource: RESOURCE, authorization_servers: ["https://idp.example.com"], bearer_methods_supported: ["header"], resource_name: "presto" });
    }
  });

  it("refuses a browser origin it does not know, accepts its own", async () => {
    const token = `Bearer ${await h.idp.userToken("ana", ["ads-eng"])}`;
    expect((await initialize(h, { authorization: token, origin: "https://evil.example.com" })).status).toBe(403);
    expect((await initialize(h, { authorization: token, origin: PUBLIC_URL })).status).toBe(200);
  });

  it("refuses a body over the limit with 413 and bad JSON with 400", async () => {
    const token = `Bearer ${await h.idp.userToken("ana", ["ads-eng"])}`;
    expect((await initialize(h, { authorization: token }, JSON.stringify({ pad: "x".repeat(2 * 1024 * 1024) }))).status).toBe(413);
    expect((await initialize(h, { authorization: token }, "{ nope")).status).toBe(400);
  });

  it("does not let another caller use someone's session", async () => {
    const init = await initialize(h, { authorization: `Bearer ${await h.idp.userToken("ana", ["ads-eng"])}` });
    const session = init.headers.get("mcp-session-id") ?? "";
    expect(session).not.toBe("");
    const res = await fetch(h.mcpUrl, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-session-id": session, authorization: `Bearer ${await h.idp.userToken("bo", ["finance"])}` },
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
    });
    expect(res.status).toBe(403);
  });
});

describe("which tools a caller sees and may call", () => {
  it("lists per caller only what it may call", async () => {
    expect(await listNames(await h.idp.userToken("ana", ["ads-eng"]))).toEqual(["flaky", "revenue", "run_query", "slow"]);
    expect(await listNames(await h.idp.userToken("dev", ["data-platform"]))).toEqual(["flaky", "kill_query", "revenue", "run_query", "slow"]);
    expect(await listNames(await saToken(h, "agents", "incident-bot"))).toEqual(["revenue", "run_query", "slow"]);
  });

  it("shows the operator's verifier every implemented tool, declared or not, and lets it call none", async () => {
    const token = await saToken(h, "toolfleet-system", "toolfleet-operator");
    expect(await listNames(token)).toEqual(["flaky", "kill_query", "revenue", "run_query", "slow", "undeclared"]);
    const before = ran.run_query ?? 0;
    const result = await call(await connect(h, token), "run_query", { sql: "select 1" });
    expect(result).toEqual({ isError: true, text: "Denied: service account toolfleet-system/toolfleet-operator is the operator's verifier: it may list tools and call none" });
    expect(ran.run_query ?? 0).toBe(before);
  });

  it("runs an allowed call and refuses a tool narrowed to another group", async () => {
    const ana = await connect(h, await h.idp.userToken("ana", ["ads-eng"]));
    expect(await call(ana, "run_query", { sql: "select 1" })).toEqual({ isError: false, text: "rows for select 1" });
    const before = ran.kill_query ?? 0;
    expect(await call(ana, "kill_query", { id: "q1" })).toEqual({
      isError: true,
      text: "Denied: tool kill_query is limited to groups data-platform, and the caller is in none of them",
    });
    expect(ran.kill_query ?? 0).toBe(before);
  });

  it("applies a tool's own authorize rule", async () => {
    const ana = await connect(h, await h.idp.userToken("ana", ["ads-eng"]));
    expect(await call(ana, "revenue")).toEqual({ isError: true, text: "Denied: revenue tables are for finance only" });
    const bo = await connect(h, await h.idp.userToken("bo", ["finance"]));
    expect(await call(bo, "revenue")).toEqual({ isError: false, text: "revenue: 42" });
  });

  it("lets a service account call read-only tools only", async () => {
    const bot = await connect(h, await saToken(h, "agents", "incident-bot"));
    expect((await call(bot, "run_query", { sql: "select 2" })).isError).toBe(false);
    const before = ran.flaky ?? 0;
    expect(await call(bot, "flaky")).toEqual({
      isError: true,
      text: "Denied: tool flaky is not read-only and does not admit service accounts, so service account agents/incident-bot cannot call it",
    });
    expect(ran.flaky ?? 0).toBe(before);
  });

  it("denies an undeclared tool even though the code implements it, and an unknown one", async () => {
    const dev = await connect(h, await h.idp.userToken("dev", ["data-platform"]));
    expect(await call(dev, "undeclared")).toEqual({ isError: true, text: "Denied: tool undeclared is not declared in this server's policy" });
    expect((await call(dev, "no_such_tool")).isError).toBe(true);
    expect(ran.undeclared).toBeUndefined();
  });

  it("reports invalid arguments and backend failures as tool errors", async () => {
    const ana = await connect(h, await h.idp.userToken("ana", ["ads-eng"]));
    expect(await call(ana, "run_query", { sql: 3 })).toEqual({ isError: true, text: "Invalid arguments for run_query: sql: Invalid input: expected string, received number" });
    expect(await call(ana, "flaky")).toEqual({ isError: true, text: "Error: backend unreachable: presto-coordinator:8080 refused the connection" });
  });
});
