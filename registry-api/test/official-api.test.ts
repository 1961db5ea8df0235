/**
 * Every registry answer against a JSON Schema of the official MCP registry API (2025-12-01,
 * registry-api/schema/), with ajv, against the real control plane: lists, every page, search,
 * versions, latest, exact versions and errors, as a person, a service account, a reviewer, an
 * admin and an outsider with a valid token. Unpublished servers carry no official status (the
 * official block allows no extra property and has no "waiting for review"); the optional write
 * endpoints answer 501.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { deleteNamespace, testNamespace } from "../../local/cluster/harness.js";
import type { KubeClient } from "../../runtime/index.js";
import { AUDIENCE, PREFIX, call, inParallel, kube, putServer, startTestRegistry, type Answer, type TestRegistry } from "./fixtures.js";
import { waitFor } from "../../local/wait-for.js";

// ajv-formats is CommonJS: its plugin is the module itself. strictRequired is off because the
// document's PositionalArgument requires valueHint or value in an anyOf, as JSON Schema allows.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const schemaFile = new URL("../schema/official-registry-api-2025-12-01.schema.json", import.meta.url);
const ajv = addFormats(new Ajv2020({ strict: true, strictRequired: false, allErrors: true }));
ajv.addSchema(JSON.parse(readFileSync(schemaFile, "utf8")) as object);
const validator = (def: string): ValidateFunction => ajv.getSchema(`https://toolfleet.dev/schemas/official-registry-api-2025-12-01.schema.json#/$defs/${def}`)!;
const shapes = { list: validator("ServerList"), server: validator("ServerResponse"), error: validator("Error") };

let ns: string;
let t: TestRegistry;
let client: KubeClient;
let base: string;
const callers: Record<string, string> = {};
const name = (server: string) => `${PREFIX}.${ns}/${server}`;
const many = Array.from({ length: 5 }, (_, i) => `extra-${i}`);

/** Checks an answer against the official shape for its kind; the failures name the endpoint. */
function conforms(what: string, answer: Answer, shape: keyof typeof shapes): void {
  const ok = shapes[shape](answer.body);
  expect({ what, status: answer.status, errors: ok ? [] : shapes[shape].errors }).toEqual({ what, status: answer.status, errors: [] });
}
let checked = 0;

async function serviceAccountToken(account: string): Promise<string> {
  await client.request("POST", `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: account } });
  const answer = (await client.request("POST", `/api/v1/namespaces/${ns}/serviceaccounts/${account}/token`, {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenRequest",
    spec: { audiences: [AUDIENCE], expirationSeconds: 600 },
  })) as { status: { token: string } };
  return answer.status.token;
}

beforeAll(async () => {
  ns = await testNamespace("registry-official");
  client = kube();
  await putServer(client, ns, "presto", { groups: ["data-platform"], serviceAccounts: [`${ns}/incident-bot`], title: "Presto", version: "1.4.0" });
  await putServer(client, ns, "pending", { groups: ["data-platform"], published: false, title: "Pending" });
  await putServer(client, ns, "rejected", { groups: ["data-platform"], published: false, phase: "Rejected", pending: [] });
  await inParallel(many, 5, (n) => putServer(client, ns, n, { groups: ["data-platform", "toolfleet:admins"], serviceAccounts: [`${ns}/incident-bot`] }));
  t = await startTestRegistry(ns);
  base = t.registry.url;
  callers.person = await t.issuer.userToken("olga", ["data-platform"]);
  callers.serviceAccount = await serviceAccountToken("incident-bot");
  callers.reviewer = await t.issuer.userToken("sam", ["toolfleet:security-reviewers"]);
  callers.admin = await t.issuer.userToken("root", ["toolfleet:admins"]);
  callers.outsider = await t.issuer.userToken("otto", ["marketing"]);
  await waitFor("every server in the registry's catalog", async () => t.registry.catalog.entries().length === 3 + many.length, 10_000, 25);
}, 120_000);
afterAll(async () => {
  await t?.stop();
  await deleteNamespace(ns);
});

describe.each(["/v0.1", "/v0"])("every answer under %s conforms to the official API", (prefix) => {
  it.each(["person", "serviceAccount", "reviewer", "admin", "outsider"])("as a %s: lists, pages, search, versions, latest, errors", async (who) => {
    const token = callers[who]!;
    const seen: string[] = [];
    // Every page of a paged listing.
    let cursor: string | undefined;
    do {
      const page = await call<{ servers: Array<{ server: { name: string } }>; metadata?: { nextCursor?: string } }>(base, `${prefix}/servers?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, token);
      conforms(`${who} page`, page, "list");
      seen.push(...page.body.servers.map((s) => s.server.name));
      cursor = page.body.metadata?.nextCursor;
    } while (cursor);
    expect(seen.length).toBe(new Set(seen).size);
    for (const query of ["", "?search=presto", "?search=nothing-matches", "?version=latest", "?version=1.4.0", `?updated_since=${encodeURIComponent("2020-01-01T00:00:00Z")}`, "?include_deleted=false"]) {
      conforms(`${who} list${query}`, await call(base, `${prefix}/servers${query}`, token), "list");
    }
    // Versions, latest and exact of every server, visible or not (not visible: a conforming 404).
    for (const server of ["presto", "pending", "rejected", "nope", ...many]) {
      const encoded = encodeURIComponent(name(server));
      const visible = seen.includes(name(server));
      const versions = await call(base, `${prefix}/servers/${encoded}/versions`, token);
      expect({ server, who, status: versions.status }).toEqual({ server, who, status: visible ? 200 : 404 });
      conforms(`${who} versions of ${server}`, versions, visible ? "list" : "error");
      for (const version of ["latest", server === "presto" ? "1.4.0" : "1.0.0", "9.9.9"]) {
        const one = await call(base, `${prefix}/servers/${encoded}/versions/${version}`, token);
        conforms(`${who} ${server}@${version}`, one, one.status === 200 ? "server" : "error");
        expect(one.status).toBe(visible && version !== "9.9.9" ? 200 : 404);
      }
    }
    // Bad parameters, and the read-only registry's write endpoints.
    for (const query of ["?limit=0", "?limit=abc", "?cursor=%%%", "?updated_since=yesterday"]) {
      const bad = await call(base, `${prefix}/servers${query}`, token);
      expect({ query, status: bad.status }).toEqual({ query, status: 400 });
      conforms(`${who} ${query}`, bad, "error");
    }
    const presto = encodeURIComponent(name("presto"));
    for (const [method, path] of [
      ["PUT", `/servers/${presto}/versions/1.4.0`],
      ["DELETE", `/servers/${presto}/versions/1.4.0`],
      ["POST", "/publish"],
    ] as const) {
      const refused = await call(base, `${prefix}${path}`, token, { method, headers: { "content-type": "application/json" }, body: JSON.stringify({ name: name("presto"), description: "x", version: "9.0.0" }) });
      expect({ method, path, status: refused.status }).toEqual({ method, path, status: 501 });
      conforms(`${who} ${method} ${path}`, refused, "error");
    }
    checked++;
  });

  it("without a token or with a forged one: 401 in the official error shape, and the write endpoints too", async () => {
    for (const token of [undefined, "not-a-jwt", await t.issuer.sign({ sub: "x", aud: "https://elsewhere.example" })]) {
      for (const [method, path] of [
        ["GET", "/servers"],
        ["GET", `/servers/${encodeURIComponent(name("presto"))}/versions/latest`],
        ["POST", "/publish"],
      ] as const) {
        const refused = await call(base, `${prefix}${path}`, token, { method });
        expect(refused.status).toBe(401);
        conforms(`no token ${method} ${path}`, refused, "error");
      }
    }
  });
});

describe("what reviewers and admins see of unpublished servers", () => {
  it("no official status while waiting for review, and no property the official block does not define", async () => {
    for (const who of ["reviewer", "admin"]) {
      const list = await call<{ servers: Array<{ server: { name: string }; _meta: Record<string, Record<string, unknown>> }> }>(base, "/v0.1/servers?limit=100", callers[who]);
      const byName = new Map(list.body.servers.map((s) => [s.server.name, s._meta]));
      for (const server of ["pending", "rejected"]) {
        const meta = byName.get(name(server))!;
        expect(meta["io.modelcontextprotocol.registry/official"]).toEqual({ updatedAt: expect.any(String), isLatest: true });
        expect(meta["dev.toolfleet/server"]).toMatchObject({ published: false, statusMessage: expect.stringMatching(/^not published \((PendingReview|Rejected)\)/) });
      }
      expect(byName.get(name("presto"))!["io.modelcontextprotocol.registry/official"]).toMatchObject({ status: "active", isLatest: true, publishedAt: expect.any(String) });
    }
  });

  it("the schema is strict where the document is: an extra official property, an unknown status or a long description fail", () => {
    const good = { server: { name: "a.b/c", description: "d", version: "1.0.0" }, _meta: { "io.modelcontextprotocol.registry/official": { status: "active", isLatest: true } } };
    expect(shapes.server(good)).toBe(true);
    expect(shapes.server({ ...good, _meta: { "io.modelcontextprotocol.registry/official": { status: "active", statusMessage: "waiting" } } })).toBe(false);
    expect(shapes.server({ ...good, _meta: { "io.modelcontextprotocol.registry/official": { status: "pending" } } })).toBe(false);
    expect(shapes.server({ server: { ...good.server, description: "x".repeat(101) } })).toBe(false);
    expect(shapes.server({ server: { ...good.server, name: "no-slash" } })).toBe(false);
    expect(shapes.list({ servers: [good], metadata: { count: "1" } })).toBe(false);
  });

  afterAll(() => {
    // Each caller's sweep ran under both prefixes.
    expect(checked).toBe(10);
  });
});
