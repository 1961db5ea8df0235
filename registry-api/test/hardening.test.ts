/**
 * The registry as an attacker meets it, against the real control plane: a caller who sends its
 * own Host header never decides where anyone's 401 challenge points, concurrent requests never
 * see each other's, and the access check answers only about servers the caller can see, as the
 * listing does.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { request } from "node:http";
import { deleteNamespace, testNamespace } from "../../local/cluster/harness.js";
import type { KubeClient } from "../../runtime/index.js";
import { loadRegistryConfig } from "../config.js";
import { PREFIX, call, kube, putServer, startTestRegistry, type TestRegistry } from "./fixtures.js";
import { waitFor } from "../../local/wait-for.js";

let ns: string;
let t: TestRegistry;
let client: KubeClient;
let base: string;
const tokens: Record<string, string> = {};
const name = (server: string) => `${PREFIX}.${ns}/${server}`;

beforeAll(async () => {
  ns = await testNamespace("registry-hard");
  client = kube();
  await putServer(client, ns, "presto", {
    groups: ["data-platform", "presto-admins"],
    tools: [
      { name: "run_query", readOnly: true, minutesSaved: 5 },
      { name: "cancel_query", sensitive: true, minutesSaved: 3, allowedGroups: ["presto-admins"] },
    ],
  });
  await putServer(client, ns, "pending", { groups: ["ads-eng"], published: false });
  t = await startTestRegistry(ns);
  base = t.registry.url;
  tokens.olga = await t.issuer.userToken("olga", ["data-platform"]);
  tokens.ana = await t.issuer.userToken("ana", ["ads-eng"]);
  tokens.otto = await t.issuer.userToken("otto", ["marketing"]);
  tokens.sam = await t.issuer.userToken("sam", ["toolfleet:security-reviewers"]);
  await waitFor("every server in the registry's catalog", async () => t.registry.catalog.entries().length === 2, 10_000, 25);
}, 120_000);
afterAll(async () => {
  await t?.stop();
  await deleteNamespace(ns);
});

/** A raw request with a Host header of the caller's choosing (fetch would not let one set it). */
function withHost(host: string, path: string): Promise<{ status: number; challenge: string | undefined; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: "GET", headers: { host } }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, challenge: res.headers["www-authenticate"], body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the public URL", () => {
  const own = () => `resource_metadata="${base}/.well-known/oauth-protected-resource"`;

  it("no Host header moves a challenge: each points at the configured URL, also for concurrent callers", async () => {
    const hosts = Array.from({ length: 40 }, (_, i) => (i % 2 ? `attacker-${i}.example` : new URL(base).host));
    const answers = await Promise.all(hosts.flatMap((h) => [withHost(h, "/v0.1/servers"), withHost(h, "/")]));
    for (const a of answers) {
      if (a.status !== 401) continue;
      expect(a.challenge).toContain(own());
    }
    expect(answers.filter((a) => a.status === 401).length).toBeGreaterThanOrEqual(40);
    // And an honest caller after them still gets the registry's own.
    const after = await call(base, "/v0.1/servers");
    expect(after.headers.get("www-authenticate")).toContain(own());
  });

  it("the metadata and the OpenAPI document name the configured URL, whatever the Host", async () => {
    const meta = await withHost("evil.example", "/.well-known/oauth-protected-resource");
    expect(JSON.parse(meta.body)).toMatchObject({ resource: base });
    const doc = await withHost("evil.example", "/openapi.json");
    expect(doc.body).not.toContain("evil.example");
  });

  it("is required unless the registry listens on loopback only", () => {
    const env = { REGISTRY_ALLOW_ANONYMOUS: "true" };
    for (const host of ["0.0.0.0", "::", "10.1.2.3", "registry.internal"]) {
      expect(() => loadRegistryConfig([`--host=${host}`], env)).toThrow(/^--public-url \(REGISTRY_PUBLIC_URL\): required when listening on/);
    }
    for (const host of ["127.0.0.1", "::1", "localhost"]) expect(loadRegistryConfig([`--host=${host}`], env).publicUrl).toBeUndefined();
    expect(loadRegistryConfig(["--host=0.0.0.0", "--public-url=https://registry.example.com/"], env).publicUrl).toBe("https://registry.example.com");
    expect(() => loadRegistryConfig(["--host=0.0.0.0", "--public-url=registry.example.com"], env)).toThrow(/--public-url .*not a URL/);
    expect(() => loadRegistryConfig(["--public-url=https://registry.example.com/?x=1"], env)).toThrow(/--public-url .*no query/);
  });
});

describe("the access check answers only what the listing shows", () => {
  const access = (token: string | undefined, body: unknown) =>
    call<{ allowed?: boolean; code?: string; reason?: string; error?: string; parameter?: string }>(base, "/api/v1/access", token, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  it("a server the caller cannot see is not found, exactly like one that does not exist", async () => {
    const missing = await access(tokens.otto, { server: name("nope") });
    expect(missing.status).toBe(404);
    for (const tool of [undefined, "run_query", "cancel_query", "no_such_tool"]) {
      for (const who of ["otto", "ana"]) {
        const r = await access(tokens[who], { server: name("presto"), ...(tool ? { tool } : {}) });
        expect({ who, tool, status: r.status, body: r.body }).toEqual({ who, tool, status: 404, body: { error: `Server not found: ${name("presto")}`, parameter: "server" } });
      }
    }
    // The unpublished one: not found for its own group's member too, as in the listing.
    expect((await access(tokens.ana, { server: name("pending") })).status).toBe(404);
    expect(JSON.stringify((await access(tokens.otto, { server: name("presto"), tool: "cancel_query" })).body)).not.toMatch(/data-platform|presto-admins|cancel_query/);
  });

  it("a caller who sees the server learns nothing the listing does not show them", async () => {
    const listed = JSON.stringify((await call(base, "/v0.1/servers", tokens.olga)).body);
    for (const tool of ["run_query", "cancel_query", "no_such_tool"]) {
      const r = await access(tokens.olga, { server: name("presto"), tool });
      expect(r.status).toBe(200);
      // Every group and tool a reason names is in the caller's own listing.
      for (const word of (r.body.reason ?? "").match(/[a-z][a-z0-9_-]*[-_][a-z0-9_-]+/g) ?? []) {
        if (word !== tool) expect({ word, listed: listed.includes(word) }).toEqual({ word, listed: true });
      }
    }
    expect((await access(tokens.olga, { server: name("presto"), tool: "cancel_query" })).body).toMatchObject({ allowed: false, code: "not-in-tool-groups" });
  });

  it("reviewers still get an answer about an unpublished server", async () => {
    expect((await access(tokens.sam, { server: name("pending"), tool: "read_things" })).body).toMatchObject({ allowed: false, code: "not-published" });
  });
});
