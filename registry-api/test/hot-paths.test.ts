/**
 * The list and the access check served without express answer exactly as express does: the same
 * requests, good and bad, sent as raw bytes to a registry with the hot paths and to one without,
 * give the same bytes back (status line, headers in order, body; only Date differs), and the same
 * request metrics. Requests in any other form than the plain one go to express untouched.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createServer, type RequestListener, type Server } from "node:http";
import { connect, type AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { TestIssuer } from "../../auth/test/token-issuer.js";
import { createAuthenticator } from "../../auth/index.js";
import { silentLogger } from "../../common/log.js";
import { createRegistryApp } from "../app.js";
import { createAuthn } from "../authn.js";
import { Catalog } from "../catalog.js";
import { withHotPaths } from "../hot-paths.js";
import { RegistryMetrics } from "../metrics.js";
import type { CachedServer } from "../server-cache.js";
import { ServerListPages } from "../server-list.js";
import { ResponseRenderer } from "../server-response.js";
import { PREFIX, spec, status, type ServerShape } from "./fixtures.js";

const NS = "shop";
const name = (n: string) => `${PREFIX}.${NS}/${n}`;
const roles = { reviewerGroups: { security: "sec", legal: "legal" }, adminGroups: ["admins"] };

function server(n: string, shape: ServerShape): CachedServer {
  return { apiVersion: "toolfleet.dev/v1alpha1", kind: "McpServer", metadata: { name: n, namespace: NS, creationTimestamp: "2026-11-01T00:00:00Z" }, spec: spec(shape), status: status(NS, n, shape), lastWriteAt: "2026-11-02T00:00:00.000Z" } as unknown as CachedServer;
}

const servers: CachedServer[] = [
  server("presto", {
    groups: ["data-platform", "ads-eng"],
    serviceAccounts: [`${NS}/incident-bot`],
    tools: [
      { name: "run_query", readOnly: true, minutesSaved: 5 },
      { name: "cancel_query", readOnly: false, sensitive: true, allowedGroups: ["data-platform"] },
      { name: "write_thing", readOnly: false },
    ],
  }),
  server("pending", { groups: ["ads-eng"], published: false }),
  server("zurich", { groups: ["ads-eng"], title: "Zürich ☃ \"quoted\" </script>", description: "Ünïcode\u2028and a line separator" }),
  ...Array.from({ length: 130 }, (_, i) => server(`s-${String(i).padStart(3, "0")}`, { groups: i % 2 ? ["ads-eng"] : ["finance"], version: i % 3 ? "1.0.0" : "2.0.0" })),
];

let users: TestIssuer;
let cluster: TestIssuer;
const tokens: Record<string, string> = {};
const listening: Server[] = [];
const ports = { hot: 0, express: 0 };

async function listen(app: RequestListener): Promise<number> {
  const s = createServer(app);
  listening.push(s);
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return (s.address() as AddressInfo).port;
}

beforeAll(async () => {
  users = await TestIssuer.start("https://idp.toolfleet.test", "https://registry.toolfleet.test");
  cluster = await TestIssuer.start("https://kubernetes.default.svc", "https://registry.toolfleet.test");
  const sa = (ns: string, n: string) => cluster.sign({ sub: `system:serviceaccount:${ns}:${n}`, extra: { "kubernetes.io": { namespace: ns, serviceaccount: { name: n } } } });
  Object.assign(tokens, {
    ana: await users.userToken("ana", ["ads-eng"]),
    olga: await users.userToken("olga", ["data-platform", "ads-eng"]),
    otto: await users.userToken("otto", []),
    sam: await users.userToken("sam", ["sec"]),
    root: await users.userToken("root", ["admins"]),
    bot: await sa(NS, "incident-bot"),
    verifier: await sa("toolfleet-system", "toolfleet-operator"),
    expired: await users.userToken("ana", ["ads-eng"], { expiresIn: -120 }),
  });
  const attacks = await users.attackSet();
  for (const attack of ["bad signature", "alg none", "wrong audience", "unknown kid"]) tokens[attack] = attacks[attack]!;
  const catalog = new Catalog({ list: () => servers, onChange: () => () => {} }, { registryPrefix: PREFIX, clusterDomain: "cluster.local", verifierServiceAccount: "toolfleet-system/toolfleet-operator" });
  const options = (hotPaths: boolean) => ({
    catalog,
    authenticator: createAuthenticator({
      users: { issuer: users.issuer, audience: users.audience, keys: { jwksUrl: users.jwksUrl } },
      serviceAccounts: { issuer: cluster.issuer, audience: cluster.audience, keys: { jwksUrl: cluster.jwksUrl }, liveness: "off" as const },
    }),
    roles,
    allowAnonymous: false,
    publicUrl: "https://registry.toolfleet.test",
    health: { live: () => true, ready: () => true },
    metrics: new RegistryMetrics(catalog, { defaultMetrics: false }),
    log: silentLogger,
    hotPaths,
  });
  ports.hot = await listen(createRegistryApp(options(true)));
  ports.express = await listen(createRegistryApp(options(false)));
}, 60_000);

afterAll(async () => {
  for (const s of listening) await new Promise((resolve) => s.close(resolve));
  await users?.stop();
  await cluster?.stop();
});

interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Who is calling: a key of `tokens`, or a whole Authorization header value. */
  as?: string;
}

function encode(r: RawRequest): Buffer {
  const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body);
  const headers: Record<string, string> = { host: "registry.toolfleet.test", connection: "close", ...(r.as ? { authorization: tokens[r.as] ? `Bearer ${tokens[r.as]}` : r.as } : {}), ...r.headers };
  if (body && headers["content-length"] === undefined && headers["transfer-encoding"] === undefined) headers["content-length"] = String(body.length);
  const head = `${r.method ?? "GET"} ${r.path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("")}\r\n`;
  return body ? Buffer.concat([Buffer.from(head, "latin1"), body]) : Buffer.from(head, "latin1");
}

/** The whole response as sent, with the Date header's value blanked. */
function exchange(port: number, r: RawRequest): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    // Written without a FIN: node drops a request whose client half-closed before the answer.
    const socket = connect(port, "127.0.0.1", () => socket.write(encode(r)));
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1").replace(/\r\nDate: [^\r]*/, "\r\nDate: -")));
  });
}

async function both(r: RawRequest): Promise<{ hot: string; express: string }> {
  return { hot: await exchange(ports.hot, r), express: await exchange(ports.express, r) };
}

const statusOf = (raw: string) => Number(raw.slice(9, 12));
const bodyOf = (raw: string) => JSON.parse(Buffer.from(raw.slice(raw.indexOf("\r\n\r\n") + 4), "latin1").toString("utf8")) as Record<string, unknown>;

const callers = ["ana", "olga", "otto", "sam", "root", "bot", "verifier"];
const json = { "content-type": "application/json" };
const access = (body: unknown, as: string, headers: Record<string, string> = json): RawRequest => ({ method: "POST", path: "/api/v1/access", headers, body: typeof body === "string" ? body : JSON.stringify(body), as });

describe("the hot paths answer as express does", () => {
  it("the access check, for every caller and every kind of body", async () => {
    const bodies: unknown[] = [
      { server: name("presto") },
      { server: name("presto"), tool: "run_query" },
      { server: name("presto"), tool: "cancel_query" },
      { server: name("presto"), tool: "write_thing" },
      { server: name("presto"), tool: "no_such_tool" },
      { server: name("pending"), tool: "read_things" },
      { server: name("zurich") },
      { server: name("nope") },
      { server: 7 },
      { server: name("presto"), tool: "" },
      { server: name("presto"), tool: "t".repeat(65) },
      { server: "s".repeat(513) },
      { server: name("presto"), extra: 1 },
      {},
      [],
      [{ server: name("presto") }],
      null,
      '"a string"',
      "123",
      "true",
      "{not json",
      '{"server": "x"',
      "",
      ` \n{"server":"${name("presto")}"}`,
      `\ufeff{"server":"${name("presto")}"}`,
      `{"server":"${name("nope")}","server":"${name("presto")}"}`,
      `{"__proto__":{"tool":"run_query"},"server":"${name("presto")}"}`,
      `{"server":"${name("presto")}","tool":"\\u0072un_query"}`,
      `{"server":"${name("presto")}\u00e9"}`,
    ];
    const seen = new Set<number>();
    for (const as of callers) {
      for (const body of bodies) {
        const { hot, express } = await both(access(body, as));
        expect({ as, body, hot }).toEqual({ as, body, hot: express });
        seen.add(statusOf(hot));
      }
    }
    // Allowed and denied answers, refusals of the body and servers not found were all among them.
    expect([...seen].sort()).toEqual([200, 400, 404]);
    const ana = await both(access({ server: name("presto"), tool: "run_query" }, "ana"));
    expect(bodyOf(ana.hot)).toMatchObject({ allowed: true, code: "group-allowed" });
  });

  it("the access check, for every credential and every form of request", async () => {
    const body = { server: name("presto"), tool: "run_query" };
    const requests: RawRequest[] = [
      ...["", "garbage", "Bearer", "Bearer x.y.z", "Basic YW5hOnB3", "expired", "bad signature", "alg none", "wrong audience", "unknown kid", `Bearer ${"a".repeat(20)} Bearer b`].map((as) => access(body, as)),
      access(body, ""),
      ...[
        "application/json; charset=utf-8",
        "Application/JSON",
        "application/json;charset=utf-8",
        "application/json; charset=latin1",
        "application/json; charset=utf-16",
        "application/json; charset",
        "application/vnd.api+json",
        "text/plain",
      ].map((type) => access(body, "ana", { "content-type": type })),
      access(body, "ana", {}),
      { method: "POST", path: "/api/v1/access", headers: json, as: "ana" },
      access("", "ana", { ...json, "content-length": "0" }),
      access(gzipSync(JSON.stringify(body)).toString("latin1"), "ana", { ...json, "content-encoding": "gzip" }),
      { method: "POST", path: "/api/v1/access", headers: { ...json, "content-encoding": "gzip" }, body: gzipSync(JSON.stringify(body)), as: "ana" },
      access(body, "ana", { ...json, "content-encoding": "br" }),
      access(body, "ana", { ...json, "content-encoding": "identity" }),
      { method: "POST", path: "/api/v1/access", headers: { ...json, "transfer-encoding": "chunked" }, body: `${JSON.stringify(body).length.toString(16)}\r\n${JSON.stringify(body)}\r\n0\r\n\r\n`, as: "ana" },
      access(JSON.stringify({ server: name("presto"), tool: "x".repeat(17_000) }), "ana"),
      access(JSON.stringify({ server: name("presto"), tool: "x".repeat(16_300) }), "ana"),
      access(body, "ana", { ...json, expect: "100-continue" }),
      ...["/api/v1/access/", "/API/v1/access", "/api/v1/access?x=1", "/api/v1//access", "/api/v1/access#x", "/v0.1/../api/v1/access"].map((path) => ({ ...access(body, "ana"), path })),
      { method: "GET", path: "/api/v1/access", as: "ana" },
      { ...access(body, "ana"), method: "PUT" },
    ];
    for (const r of requests) {
      const { hot, express } = await both(r);
      expect({ r: encode(r).toString("latin1").slice(0, 300), hot }).toEqual({ r: encode(r).toString("latin1").slice(0, 300), hot: express });
    }
  });

  it("the server list, for every caller and query", async () => {
    const page = bodyOf((await both({ path: "/v0.1/servers?limit=7", as: "ana" })).hot) as { metadata: { nextCursor: string } };
    const queries = [
      "",
      "?",
      "?limit=5",
      "?limit=100",
      "?limit=101",
      "?limit=0",
      "?limit=abc",
      "?limit=1&limit=2",
      "?limit[a]=1",
      "?limit=%35",
      `?limit=7&cursor=${page.metadata.nextCursor}`,
      "?cursor=bad!",
      "?cursor=",
      "?search=presto",
      "?search=Z%C3%BCrich",
      "?search=%E2%98%83",
      "?search=%zz",
      "?search=a+b",
      "?updated_since=2026-01-01T00:00:00Z",
      "?updated_since=2026-12-01T00:00:00%2B01:00",
      "?updated_since=yesterday",
      "?version=latest",
      "?version=2.0.0",
      "?include_deleted=true",
      "?include_deleted=maybe",
      "?unknown=1",
      "?limit=3#frag",
      "?search=\u00fc",
    ];
    const seen = new Set<number>();
    for (const mount of ["/v0.1", "/v0"]) {
      for (const q of queries) {
        for (const as of [...callers, "", "garbage", "expired"]) {
          const r: RawRequest = { path: `${mount}/servers${q}`, as };
          const { hot, express } = await both(r);
          expect({ path: r.path, as, hot }).toEqual({ path: r.path, as, hot: express });
          seen.add(statusOf(hot));
        }
      }
    }
    expect([...seen].sort()).toEqual([200, 400, 401]);
  });

  it("the server list in any other form of request", async () => {
    const requests: RawRequest[] = [
      { path: "/v0.1/servers/", as: "ana" },
      { path: "/V0.1/Servers", as: "ana" },
      { path: "/v0.1//servers", as: "ana" },
      { path: "/v0.1/servers", as: "ana", headers: { "if-none-match": "*" } },
      { path: "/v0.1/servers", as: "ana", headers: { "if-modified-since": "Mon, 30 Nov 2026 00:00:00 GMT" } },
      { path: "/v0.1/servers", as: "ana", headers: { "cache-control": "no-cache", "if-none-match": "*" } },
      { method: "HEAD", path: "/v0.1/servers", as: "ana" },
      { method: "POST", path: "/v0.1/servers", as: "ana" },
      { path: "http://registry.toolfleet.test/v0.1/servers", as: "ana" },
      { path: "/v0.1/servers", as: "ana", body: "{}", headers: json },
    ];
    for (const r of requests) {
      const { hot, express } = await both(r);
      expect({ r: encode(r).toString("latin1").slice(0, 200), hot }).toEqual({ r: encode(r).toString("latin1").slice(0, 200), hot: express });
    }
  });

  it("count every request under the same route and status in the metrics", async () => {
    const counts = async (port: number) => (await exchange(port, { path: "/metrics" })).split("\n").filter((l) => l.startsWith("toolfleet_registry_http_request"));
    const requestsTotal = (lines: string[]) => lines.filter((l) => l.startsWith("toolfleet_registry_http_requests_total{"));
    const durationCounts = (lines: string[]) => lines.filter((l) => l.startsWith("toolfleet_registry_http_request_duration_seconds_count"));
    const [hot, express] = [await counts(ports.hot), await counts(ports.express)];
    expect(requestsTotal(hot)).toEqual(requestsTotal(express));
    expect(durationCounts(hot)).toEqual(durationCounts(express));
    // The earlier tests' requests are all there, by route: the hot routes, refusals by mount, body refusals before routing.
    expect(requestsTotal(hot).join("\n")).toMatch(/route="\/api\/v1\/access",status="200"[\s\S]*route="unmatched",status="400"/);
    for (const route of ["/v0.1/servers", "/v0/servers", "/v0.1/*", "/api/v1/*"]) expect(requestsTotal(hot).some((l) => l.includes(`route="${route}"`))).toBe(true);
  });
});

describe("the hot paths take", () => {
  it("only the plain requests, and leave every other one to express untouched", async () => {
    const catalog = new Catalog({ list: () => servers, onChange: () => () => {} }, { registryPrefix: PREFIX, clusterDomain: "cluster.local", verifierServiceAccount: "toolfleet-system/toolfleet-operator" });
    const renderer = new ResponseRenderer(Object.keys(roles.reviewerGroups));
    const authn = createAuthn({ authenticator: createAuthenticator({ users: { issuer: users.issuer, audience: users.audience, keys: { jwksUrl: users.jwksUrl } } }), roles, allowAnonymous: false, resourceMetadataUrl: () => "https://registry.toolfleet.test/.well-known/oauth-protected-resource" });
    const handedOn: string[] = [];
    const port = await listen(
      withHotPaths({ catalog, pages: new ServerListPages(renderer), authn, metrics: new RegistryMetrics(catalog, { defaultMetrics: false }), log: silentLogger }, (req, res) => {
        handedOn.push(`${req.method} ${req.url}`);
        res.statusCode = 418;
        res.end();
      }),
    );
    const body = { server: name("presto"), tool: "run_query" };
    const taken: RawRequest[] = [
      access(body, "ana"),
      access(body, "ana", { "content-type": "Application/JSON; Charset=UTF-8" }),
      access("{not json", "ana"),
      access(body, "garbage"),
      { path: "/v0.1/servers", as: "ana" },
      { path: "/v0/servers?limit=3&search=s-0", as: "otto" },
      { path: "/v0.1/servers?limit=abc", as: "ana" },
    ];
    for (const r of taken) expect(statusOf(await exchange(port, r))).not.toBe(418);
    expect(handedOn).toEqual([]);
    const left: RawRequest[] = [
      access(body, "ana", { "content-type": "application/json; charset=latin1" }),
      access(body, "ana", { ...json, "content-encoding": "identity" }),
      { method: "POST", path: "/api/v1/access", headers: { ...json, "transfer-encoding": "chunked" }, body: "2\r\n{}\r\n0\r\n\r\n", as: "ana" },
      { ...access(body, "ana"), path: "/api/v1/access/" },
      { path: "/v0.1/servers/", as: "ana" },
      { path: "/v0.1/servers", as: "ana", headers: { "if-none-match": "*" } },
      { path: "/v0.1/servers?search=a#b", as: "ana" },
      { method: "HEAD", path: "/v0/servers", as: "ana" },
      { path: "/healthz" },
    ];
    for (const r of left) expect(statusOf(await exchange(port, r))).toBe(418);
    expect(handedOn).toHaveLength(left.length);
  });
});
