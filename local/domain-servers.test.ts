// startDomainServers as `make run` uses it: the three servers on loopback against this
// machine's real backends, each with the policy written from its McpServer and a remote
// manifest the API server accepts; the operator's verifier sees exactly the declared tools.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { TestIssuer } from "../auth/test/token-issuer.js";
import { McpServer } from "../crds/index.js";
import { deleteNamespace, kubectl, testNamespace } from "./cluster/harness.js";
import { nullAuditSink } from "../servers/kit/index.js";
import { DEFAULT_VERIFIER, type RunningDomainServer, readSample, startDomainServers } from "./domain-servers.js";

jest.setTimeout(600_000);

let idp: TestIssuer;
let cluster: TestIssuer;
let servers: RunningDomainServer[];
let policyDir: string;
const clients: Client[] = [];

beforeAll(async () => {
  idp = await TestIssuer.start("https://idp.example.com", "unused");
  cluster = await TestIssuer.start("https://kubernetes.default.svc.cluster.local", "unused");
  policyDir = mkdtempSync(join(tmpdir(), "domain-policies-"));
  servers = await startDomainServers({
    policyDir,
    auth: { users: { issuer: idp.issuer, keys: { jwksUrl: idp.jwksUrl } }, serviceAccounts: { issuer: cluster.issuer, keys: { jwksUrl: cluster.jwksUrl } } },
    env: {},
    audit: nullAuditSink,
  });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await Promise.all((servers ?? []).map((s) => s.stop()));
  await idp?.stop();
  await cluster?.stop();
});

async function connect(url: string, token: string): Promise<Client> {
  const client = new Client({ name: "local-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  clients.push(client);
  return client;
}
const [verifierNs, verifierName] = DEFAULT_VERIFIER.split("/") as [string, string];
// Tokens bound to the server's own URL, as the operator mints them (TokenRequest, audience = URL).
const verifierToken = (audience: string) =>
  cluster.sign({ sub: `system:serviceaccount:${verifierNs}:${verifierName}`, aud: audience, extra: { "kubernetes.io": { namespace: verifierNs, serviceaccount: { name: verifierName } } } });

describe("startDomainServers", () => {
  it("starts presto, spark and airflow on loopback, against the local backends", () => {
    expect(servers.map((s) => s.name)).toEqual(["presto", "spark", "airflow"]);
    for (const s of servers) {
      expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      expect(s.backend.local).toBe(true);
      expect(s.backend.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    }
  });

  it("lists exactly each sample's tools to the operator's verifier", async () => {
    for (const s of servers) {
      const verifier = await connect(s.url, await verifierToken(s.url));
      expect((await verifier.listTools()).tools.map((t) => t.name).sort()).toEqual(readSample(s.name).spec.tools.map((t) => t.name).sort());
    }
  });

  it("serves people the policy allows, with real data", async () => {
    const presto = servers.find((s) => s.name === "presto")!;
    const ana = await connect(presto.url, await idp.userToken("ana", ["ads-eng"], { aud: presto.url }));
    const result = (await ana.callTool({ name: "run_query", arguments: { sql: "SELECT name FROM region ORDER BY regionkey" } })) as CallToolResult;
    expect(result.structuredContent).toMatchObject({ rows: [["AFRICA"], ["AMERICA"], ["ASIA"], ["EUROPE"], ["MIDDLE EAST"]] });
  });

  it("writes each policy file from the McpServer, as the operator would", () => {
    for (const s of servers) {
      const policy = JSON.parse(readFileSync(s.policyFile, "utf8")) as { server: { name: string; namespace: string; registryName: string; path: string }; verifier: string; tools: { name: string }[] };
      expect(policy.server).toEqual({ name: s.name, namespace: "data-platform", registryName: `dev.toolfleet.local.data-platform/${s.name}`, path: "/mcp" });
      expect(policy.verifier).toBe(DEFAULT_VERIFIER);
      expect(policy.tools.map((t) => t.name)).toEqual(readSample(s.name).spec.tools.map((t) => t.name));
    }
  });

  it("gives remote manifests that are the samples with remote.url, and the API server accepts them", async () => {
    const ns = await testNamespace("domain-remote");
    try {
      for (const s of servers) {
        const sample = readSample(s.name);
        expect(s.manifest.spec.remote).toEqual({ url: s.url });
        expect(s.manifest.spec.workload).toBeUndefined();
        const { workload: _w, ...rest } = sample.spec;
        expect({ ...s.manifest.spec, remote: undefined }).toEqual({ ...rest, remote: undefined });
        McpServer.parse(s.manifest);
        const out = await kubectl(["apply", "--dry-run=server", "-f", "-"], { input: stringify({ ...s.manifest, metadata: { ...s.manifest.metadata, namespace: ns } }) });
        expect(out.stdout).toContain(`mcpserver.toolfleet.dev/${s.name} created (server dry run)`);
      }
    } finally {
      await deleteNamespace(ns);
    }
  });
});
