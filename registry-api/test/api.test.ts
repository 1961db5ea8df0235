/**
 * The registry API against the real control plane: who sees what (people by group, service
 * accounts, reviewers, admins), the official API's shapes, the access check, a status change
 * showing within 2 s, every forged token refused, and bad input answered with the parameter.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { decideToolAccess } from "../../policy/index.js";
import { serverPolicy } from "../../policy/index.js";
import { McpServerSpec } from "../../crds/index.js";
import { deleteNamespace, testNamespace } from "../../local/cluster/harness.js";
import type { KubeClient } from "../../runtime/index.js";
import { AUDIENCE, PREFIX, call, kube, putServer, setStatus, spec, startTestRegistry, type ListBody, type TestRegistry } from "./fixtures.js";
import { waitFor } from "../../local/wait-for.js";

let ns: string;
let t: TestRegistry;
let client: KubeClient;
let base: string;
const tokens: Record<string, string> = {};
const names = () => ({
  presto: `${PREFIX}.${ns}/presto`,
  spark: `${PREFIX}.${ns}/spark`,
  pending: `${PREFIX}.${ns}/pending`,
});
const presto = {
  groups: ["data-platform", "ads-eng"],
  serviceAccounts: [] as string[],
  title: "Presto",
  description: "Query Presto",
  version: "1.4.0",
  tools: [
    { name: "run_query", readOnly: true, minutesSaved: 5 },
    { name: "cancel_query", sensitive: true, minutesSaved: 3, allowedGroups: ["data-platform"] },
  ],
};

async function serviceAccountToken(name: string): Promise<string> {
  await client.request("POST", `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name } });
  const answer = (await client.request("POST", `/api/v1/namespaces/${ns}/serviceaccounts/${name}/token`, {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    spec: { audiences: [AUDIENCE], expirationSeconds: 600 },
  })) as { status: { token: string } };
  return answer.status.token;
}

const list = async (token: string | undefined, query = "") => call<ListBody>(base, `/v0.1/servers${query}`, token);
const listedNames = async (token: string) => (await list(token, "?limit=100")).body.servers.map((s) => s.server.name).sort();

beforeAll(async () => {
  ns = await testNamespace("registry-api");
  client = kube();
  presto.serviceAccounts = [`${ns}/incident-bot`];
  await putServer(client, ns, "presto", presto);
  await putServer(client, ns, "spark", { groups: ["ml-eng"], title: "Spark", tools: [{ name: "list_apps", readOnly: true, minutesSaved: 1 }] });
  await putServer(client, ns, "pending", { groups: ["ads-eng"], published: false, title: "Pending" });
  t = await startTestRegistry(ns);
  base = t.registry.url;
  tokens.ana = await t.issuer.userToken("ana", ["ads-eng"]);
  tokens.olga = await t.issuer.userToken("olga", ["data-platform"]);
  tokens.mia = await t.issuer.userToken("mia", ["ml-eng"]);
  tokens.otto = await t.issuer.userToken("otto", ["marketing"]);
  tokens.sam = await t.issuer.userToken("sam", ["toolfleet:security-reviewers"]);
  tokens.root = await t.issuer.userToken("root", ["toolfleet:admins"]);
  tokens.nogroups = await t.issuer.sign({ sub: "nora" });
  tokens.bot = await serviceAccountToken("incident-bot");
  tokens.otherBot = await serviceAccountToken("other-bot");
  await waitFor("every server in the registry's catalog", async () => t.registry.catalog.entries().length === 3, 10_000, 25);
}, 120_000);
afterAll(async () => {
  await t?.stop();
  await deleteNamespace(ns);
});

describe("visibility", () => {
  it("a person sees the published servers of their groups, and no unpublished one", async () => {
    expect(await listedNames(tokens.ana!)).toEqual([names().presto]);
    expect(await listedNames(tokens.olga!)).toEqual([names().presto]);
    expect(await listedNames(tokens.mia!)).toEqual([names().spark]);
    expect(await listedNames(tokens.otto!)).toEqual([]);
  });

  it("a token without a groups claim sees only what needs no group: nothing here", async () => {
    const r = await list(tokens.nogroups);
    expect(r.status).toBe(200);
    expect(r.body.servers).toEqual([]);
  });

  it("a service account sees the servers that name it, and another sees none", async () => {
    expect(await listedNames(tokens.bot!)).toEqual([names().presto]);
    expect(await listedNames(tokens.otherBot!)).toEqual([]);
  });

  it("reviewers and admins see unpublished servers too, with their review state", async () => {
    for (const who of [tokens.sam!, tokens.root!]) expect(await listedNames(who)).toEqual([names().pending, names().presto, names().spark]);
    const pending = (await list(tokens.sam, "?search=pending")).body.servers[0]!;
    const meta = pending._meta["dev.toolfleet/server"] as { published: boolean; review: { approved: boolean; areas: Array<{ area: string; state: string }> } };
    expect(meta.published).toBe(false);
    expect(meta.review.approved).toBe(false);
    expect(meta.review.areas).toEqual(expect.arrayContaining([{ area: "security", state: "Pending" }]));
    // Waiting for review is no official status: the official block has none, Toolfleet's says why.
    expect(pending._meta["io.modelcontextprotocol.registry/official"]).toEqual({ updatedAt: expect.any(String), isLatest: true });
  });

  it("an unpublished server is not found for people, by any endpoint", async () => {
    const encoded = encodeURIComponent(names().pending);
    expect((await call(base, `/v0.1/servers/${encoded}/versions`, tokens.ana)).status).toBe(404);
    expect((await call(base, `/v0.1/servers/${encoded}/versions/latest`, tokens.ana)).status).toBe(404);
    expect((await call(base, `/v0.1/servers/${encoded}/versions/latest`, tokens.sam)).status).toBe(200);
  });

  it("a status change shows in the API within 2 s, both ways", async () => {
    await setStatus(client, ns, "pending", { published: true });
    await waitFor("the published server listed", async () => (await listedNames(tokens.ana!)).includes(names().pending), 2_000, 25);
    await setStatus(client, ns, "pending", { published: false });
    await waitFor("the unpublished server gone from the list", async () => !(await listedNames(tokens.ana!)).includes(names().pending), 2_000, 25);
  });
});

describe("the official registry API shape", () => {
  it("lists ServerResponses: server.json with remotes, the official _meta block and Toolfleet's", async () => {
    const r = await list(tokens.olga);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toContain("application/json");
    expect(r.body.metadata).toEqual({ count: 1 });
    const s = r.body.servers[0]!;
    expect(s.server).toEqual({
      $schema: "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
      name: names().presto,
      title: "Presto",
      description: "Query Presto",
      version: "1.4.0",
      remotes: [{ type: "streamable-http", url: "https://mcp.example.com/mcp" }],
    });
    const official = s._meta["io.modelcontextprotocol.registry/official"]!;
    expect(Object.keys(official).sort()).toEqual(["isLatest", "publishedAt", "status", "updatedAt"]);
    expect(Date.parse(official.updatedAt as string)).toBeGreaterThan(0);
    expect(s._meta["dev.toolfleet/server"]).toMatchObject({
      namespace: ns,
      name: "presto",
      owner: { team: "data-platform", contact: "#help" },
      access: { allowedGroups: ["data-platform", "ads-eng"], allowedServiceAccounts: [`${ns}/incident-bot`] },
      tools: [
        { name: "run_query", readOnly: true, sensitive: false, minutesSaved: 5 },
        { name: "cancel_query", readOnly: false, sensitive: true, minutesSaved: 3, allowedGroups: ["data-platform"] },
      ],
      published: true,
      phase: "Published",
    });
  });

  it("serves versions by URL-encoded name (and an unencoded slash), latest and exact, under /v0.1 and /v0", async () => {
    const encoded = encodeURIComponent(names().presto);
    for (const prefix of ["/v0.1", "/v0"]) {
      const versions = await call<ListBody>(base, `${prefix}/servers/${encoded}/versions`, tokens.ana);
      expect(versions.status).toBe(200);
      expect(versions.body.servers.map((s) => s.server.version)).toEqual(["1.4.0"]);
      for (const v of ["latest", "1.4.0"]) {
        const one = await call<ListBody["servers"][number]>(base, `${prefix}/servers/${encoded}/versions/${v}`, tokens.ana);
        expect(one.status).toBe(200);
        expect(one.body.server.name).toBe(names().presto);
      }
      const missing = await call<{ error: string; parameter: string }>(base, `${prefix}/servers/${encoded}/versions/9.9.9`, tokens.ana);
      expect(missing.status).toBe(404);
      expect(missing.body.parameter).toBe("version");
    }
    expect((await call(base, `/v0.1/servers/${names().presto}/versions/latest`, tokens.ana)).status).toBe(200);
    expect((await call(base, `/v0/servers`, tokens.ana)).body).toEqual((await list(tokens.ana)).body);
  });

  it("filters by version and search", async () => {
    expect((await list(tokens.root, "?version=latest")).body.servers).toHaveLength(3);
    expect((await list(tokens.root, "?version=1.4.0")).body.servers.map((s) => s.server.name)).toEqual([names().presto]);
    expect((await list(tokens.root, "?search=SPARK")).body.servers.map((s) => s.server.name)).toEqual([names().spark]);
    expect((await list(tokens.root, "?search=no-such-thing")).body.servers).toEqual([]);
  });

  it("an unknown server is 404 with an error, not found and invisible alike", async () => {
    for (const name of [`${PREFIX}.${ns}/nope`, names().spark]) {
      const r = await call<{ error: string }>(base, `/v0.1/servers/${encodeURIComponent(name)}/versions`, tokens.ana);
      expect(r.status).toBe(404);
      expect(r.body.error).toContain("Server not found");
    }
  });
});

describe("the access check", () => {
  const access = (token: string | undefined, body: unknown, raw?: string) =>
    call<{ allowed: boolean; code: string; reason: string; error?: string; parameter?: string }>(base, "/api/v1/access", token, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: raw ?? JSON.stringify(body),
    });

  it("answers as the shared policy decides on the operator's policy for the server", async () => {
    const policy = serverPolicy({ namespace: ns, name: "presto" }, McpServerSpec.parse(spec(presto)), {
      registryPrefix: PREFIX,
      verifierServiceAccount: "toolfleet-system/toolfleet-operator",
    });
    const cases: Array<[string, string, import("../../policy/index.js").Caller]> = [
      ["ana", "run_query", { kind: "user", subject: "ana", groups: ["ads-eng"] }],
      ["ana", "cancel_query", { kind: "user", subject: "ana", groups: ["ads-eng"] }],
      ["olga", "cancel_query", { kind: "user", subject: "olga", groups: ["data-platform"] }],
      ["bot", "run_query", { kind: "serviceAccount", namespace: ns, name: "incident-bot" }],
      ["bot", "cancel_query", { kind: "serviceAccount", namespace: ns, name: "incident-bot" }],
      ["ana", "no_such_tool", { kind: "user", subject: "ana", groups: ["ads-eng"] }],
    ];
    for (const [who, tool, caller] of cases) {
      const r = await access(tokens[who], { server: names().presto, tool });
      expect(r.status).toBe(200);
      const expected = decideToolAccess(policy, caller, tool);
      expect({ who, tool, ...r.body }).toEqual({ who, tool, server: names().presto, allowed: expected.allowed, code: expected.code, reason: expected.reason });
    }
    expect((await access(tokens.ana, { server: names().presto, tool: "cancel_query" })).body).toMatchObject({ allowed: false, code: "not-in-tool-groups" });
    expect((await access(tokens.bot, { server: names().presto, tool: "cancel_query" })).body).toMatchObject({ allowed: false, code: "sensitive-needs-person" });
    // A server the caller cannot see is not found, as in the listing (hardening.test.ts).
    expect((await access(tokens.otto, { server: names().presto })).status).toBe(404);
  });

  it("an unpublished server is not found for people, and denied with the reason for reviewers", async () => {
    expect((await access(tokens.ana, { server: names().pending })).status).toBe(404);
    const r = await access(tokens.sam, { server: names().pending, tool: "read_things" });
    expect(r.body).toMatchObject({ allowed: false, code: "not-published" });
  });

  it("refuses bad bodies naming the field", async () => {
    const bad: Array<[unknown, string | undefined, string]> = [
      [undefined, "{not json", "body"],
      [{}, undefined, "server"],
      [{ server: 7 }, undefined, "server"],
      [{ server: names().presto, tool: "" }, undefined, "tool"],
      [{ server: names().presto, extra: 1 }, undefined, "body"],
      [[], undefined, "body"],
    ];
    for (const [body, raw, parameter] of bad) {
      const r = await access(tokens.ana, body, raw);
      expect({ parameter, status: r.status, got: r.body.parameter }).toEqual({ parameter, status: 400, got: parameter });
      expect(typeof r.body.error).toBe("string");
    }
    const unknown = await access(tokens.ana, { server: `${PREFIX}.${ns}/nope` });
    expect(unknown.status).toBe(404);
    expect(unknown.body.parameter).toBe("server");
  });
});

describe("tokens", () => {
  it("no token: 401 with a bearer challenge naming the resource metadata", async () => {
    const r = await list(undefined);
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toMatch(/^Bearer resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource"$/);
    const meta = await call<{ resource: string; authorization_servers: string[] }>(base, "/.well-known/oauth-protected-resource");
    expect(meta.body.authorization_servers).toEqual(["https://idp.toolfleet.test"]);
  });

  it("refuses every token of the attack set with 401 and invalid_token", async () => {
    const attacks = await t.issuer.attackSet();
    expect(Object.keys(attacks)).toEqual(
      expect.arrayContaining(["expired", "not yet valid", "wrong issuer", "wrong audience", "bad signature", "alg none", "HS256 with the public key as secret", "unknown kid", "garbage"]),
    );
    for (const [name, token] of Object.entries(attacks)) {
      for (const path of ["/v0.1/servers", "/v0/servers"]) {
        const r = await call<{ error: string }>(base, path, token);
        expect({ name, path, status: r.status }).toEqual({ name, path, status: 401 });
        expect(r.headers.get("www-authenticate")).toContain('error="invalid_token"');
      }
      const a = await call(base, "/api/v1/access", token, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ server: names().presto }) });
      expect({ name, status: a.status }).toEqual({ name, status: 401 });
    }
  });

  it("anonymous access is off by default and, when on, is a person in no group", async () => {
    const anon = await startTestRegistry(ns, { REGISTRY_ALLOW_ANONYMOUS: "true" });
    try {
      await waitFor("every server in the registry's catalog", async () => anon.registry.catalog.entries().length === 3, 10_000, 25);
      const r = await call<ListBody>(anon.registry.url, "/v0.1/servers");
      expect(r.status).toBe(200);
      expect(r.body.servers).toEqual([]);
      // A bad token is still refused, not downgraded to anonymous.
      expect((await call(anon.registry.url, "/v0.1/servers", "garbage")).status).toBe(401);
    } finally {
      await anon.stop();
    }
  });
});

describe("bad input", () => {
  it("answers 400 naming the parameter", async () => {
    const cases: Array<[string, string]> = [
      ["?cursor=%%%", "cursor"],
      ["?cursor=bm9wZQ", "cursor"],
      [`?cursor=${Buffer.from(JSON.stringify({ v: 2, after: "x" })).toString("base64url")}`, "cursor"],
      ["?limit=0", "limit"],
      ["?limit=101", "limit"],
      ["?limit=ten", "limit"],
      ["?limit=1&limit=2", "limit"],
      ["?updated_since=yesterday", "updated_since"],
      ["?updated_since=2025-13-45T99:00:00Z", "updated_since"],
      ["?include_deleted=maybe", "include_deleted"],
    ];
    for (const [query, parameter] of cases) {
      const r = await list(tokens.ana, query);
      expect({ query, status: r.status, parameter: (r.body as unknown as { parameter: string }).parameter }).toEqual({ query, status: 400, parameter });
    }
  });

  it("an unknown endpoint is a JSON 404", async () => {
    const r = await call<{ error: string }>(base, "/v0.1/nothing", tokens.ana);
    expect(r.status).toBe(404);
    expect(r.body.error).toContain("no such endpoint");
  });
});

describe("operations", () => {
  it("serves /openapi.json describing every endpoint", async () => {
    const r = await call<{ openapi: string; paths: Record<string, unknown> }>(base, "/openapi.json");
    expect(r.body.openapi).toBe("3.1.0");
    for (const p of ["/v0.1/servers", "/v0.1/servers/{serverName}/versions", "/v0.1/servers/{serverName}/versions/{version}", "/v0/servers", "/api/v1/access", "/metrics", "/healthz", "/readyz"]) {
      expect(Object.keys(r.body.paths)).toContain(p);
    }
  });

  it("serves health, readiness and metrics by route and status", async () => {
    expect((await call(base, "/healthz")).status).toBe(200);
    expect((await call(base, "/readyz")).status).toBe(200);
    const m = await call<string>(base, "/metrics");
    expect(m.body).toMatch(/toolfleet_registry_http_requests_total\{method="GET",route="\/v0\.1\/servers",status="200"\} \d+/);
    expect(m.body).toMatch(/toolfleet_registry_http_requests_total\{method="GET",route="\/v0\.1\/\*",status="401"\} \d+/);
    expect(m.body).toContain("toolfleet_registry_http_request_duration_seconds_bucket");
    expect(m.body).toMatch(/toolfleet_registry_servers\{published="true"\} 2/);
  });
});
