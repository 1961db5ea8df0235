/**
 * The whole journey, each person through the CLI and real clients, on the real control plane
 * with the operator, the registry, Keycloak and the Presto server on a real Trino:
 * a team applies the Presto McpServer with kubectl → it waits for review and is in
 * `toolfleet review queue` → three reviewers approve with the CLI → the operator verifies and
 * publishes it → a person signs in, finds it, checks access, writes the Claude Code configuration
 * → an MCP client built from exactly that file and the person's token gets real rows → a
 * sensitive tool runs only when confirmed → an outsider sees nothing and is refused at the server.
 *
 * The server runs on this machine (the local control plane's node is simulated, so pods do not
 * run), so the team applies crds/samples/presto.yaml in its remote form, as `make run` does.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { stringify } from "yaml";
import { kubernetesJwksFetch } from "../auth/index.js";
import { DEFAULT_REVIEWER_GROUPS } from "../crds/index.js";
import { startKeycloak, startTrino, type KeycloakBackend, type TrinoBackend } from "../local/backends/harness.js";
import { cluster, clusterTls, deleteNamespace, kubectl, testNamespace } from "../local/cluster/harness.js";
import { startDomainServers, type RunningDomainServer } from "../local/domain-servers.js";
import { adminConfig } from "../local/cluster/harness.js";
import type { RunningOperator } from "../operator/operator.js";
import { loadRegistryConfig } from "../registry-api/config.js";
import { MCP_AUDIENCE, REGISTRY_AUDIENCE } from "../registry-api/demo-identity.js";
import { startRegistry, type RunningRegistry } from "../registry-api/registry.js";
import type { AuditRecord } from "../servers/kit/index.js";
import { people } from "../cli/test/people.js";
import { getServer, grantRoles, releaseMcpServers, startTestOperator, waitFor } from "./operator/harness.js";
import { createLogger } from "../common/log.js";

const work = mkdtempSync(join(tmpdir(), "toolfleet-journey-"));
let ns: string;
let keycloak: KeycloakBackend;
let trino: TrinoBackend;
let presto: RunningDomainServer;
let operator: RunningOperator;
let registry: RunningRegistry;
/** The Presto server's audit trail, as its owner would read it. */
const audit: AuditRecord[] = [];
const { toolfleet, login, kubeconfigOf } = people(work, () => registry.url);

/** An MCP client built from a client configuration entry, `${VAR}` expanded as Claude Code does. */
async function clientFrom(entry: { url: string; headers: Record<string, string> }, env: Record<string, string>, confirm?: "accept" | "decline") {
  const expand = (s: string) => s.replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => env[name] ?? "");
  const headers = Object.fromEntries(Object.entries(entry.headers).map(([k, v]) => [k, expand(v)]));
  const client = new Client({ name: "claude-code", version: "1.0.0" }, { capabilities: confirm ? { elicitation: { form: {} } } : {} });
  const asked: string[] = [];
  if (confirm) {
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(request.params.message);
      return confirm === "accept" ? { action: "accept", content: {} } : { action: "decline" };
    });
  }
  await client.connect(new StreamableHTTPClientTransport(new URL(expand(entry.url)), { requestInit: { headers } }));
  const call = async (name: string, args: Record<string, unknown>) => {
    const r = (await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as CallToolResult;
    return { isError: r.isError === true, text: r.content.map((c) => (c.type === "text" ? c.text : "")).join("\n") };
  };
  return { client, asked, call };
}

async function startLongQuery(): Promise<string> {
  const headers = { "X-Trino-User": "someone-else" };
  let page = (await (await fetch(`${trino.url}/v1/statement`, { method: "POST", headers, body: "SELECT count(*) FROM tpch.sf1000.lineitem WHERE comment LIKE '%journey%'" })).json()) as { id: string; nextUri?: string; stats: { state: string } };
  for (let i = 0; i < 100 && page.nextUri && page.stats.state !== "RUNNING"; i++) page = (await (await fetch(page.nextUri, { headers })).json()) as typeof page;
  return page.id;
}

beforeAll(async () => {
  keycloak = await startKeycloak();
  trino = await startTrino();
  ns = await testNamespace("journey");
  await grantRoles(ns);
  const server = cluster().server;
  const tls = clusterTls();
  const started = await startDomainServers({
    names: ["presto"],
    namespace: ns,
    policyDir: join(work, "policies"),
    logger: createLogger({}, { sink: () => undefined }),
    audit: { write: (record) => void audit.push(record) },
    auth: {
      users: { issuer: keycloak.issuer, audience: MCP_AUDIENCE, keys: { jwksUrl: `${keycloak.issuer}/protocol/openid-connect/certs` } },
      serviceAccounts: { issuer: server, keys: { jwksUrl: `${server}/openid/v1/jwks`, fetch: kubernetesJwksFetch({ ca: tls.ca, clientCert: tls.admin }) } },
    },
  });
  presto = started[0]!;
  operator = await startTestOperator(ns, ["--verify-interval=5s", "--verify-allow-http=true"]);
  registry = await startRegistry(
    loadRegistryConfig([], {
      REGISTRY_PORT: "0",
      TOOLFLEET_NAMESPACES: ns,
      REGISTRY_OIDC_ISSUER: keycloak.issuer,
      REGISTRY_OIDC_AUDIENCE: REGISTRY_AUDIENCE,
      REGISTRY_OIDC_JWKS_URL: `${keycloak.issuer}/protocol/openid-connect/certs`,
    }),
    adminConfig(),
  );
}, 600_000);

afterAll(async () => {
  await registry?.stop();
  await operator?.stop();
  await presto?.stop();
  if (ns) {
    // The stopped operator no longer removes its finalizer: release the McpServer, or the namespace never goes.
    await releaseMcpServers(ns);
    await deleteNamespace(ns);
  }
  rmSync(work, { recursive: true, force: true });
});

describe("the journey", () => {
  it("from kubectl apply to real rows in an MCP client, through review, publication and sign-in", async () => {
    // The team applies its server.
    await kubectl(["apply", "-f", "-"], { input: stringify(presto.manifest), user: "olga", groups: ["data-platform"] });

    // It waits for review, and is in each reviewer's queue.
    const hashed = await waitFor("the operator's spec hash", async () => {
      const s = await getServer(ns, "presto");
      return s?.status?.specHash && s.status.observedGeneration === s.metadata.generation ? s : undefined;
    }, 60_000);
    expect(hashed.status?.registry?.published ?? false).toBe(false);
    const reviewers = { security: "sam", legal: "lee", genai: "gina" } as const;
    for (const [area, user] of Object.entries(reviewers)) {
      const kubeconfig = kubeconfigOf(user, [DEFAULT_REVIEWER_GROUPS[area]!]);
      const queue = await toolfleet(user, ["review", "queue", "-n", ns, "--kubeconfig", kubeconfig]);
      expect([queue.code, queue.stdout]).toEqual([0, expect.stringMatching(new RegExp(`${ns}/presto\\s+Presto\\s+data-platform\\s+${area}`))]);
      // Each reviewer approves exactly the hash the diff showed them.
      const diff = JSON.parse((await toolfleet(user, ["review", "diff", `${ns}/presto`, "--kubeconfig", kubeconfig, "-o", "json"])).stdout) as { specHash: string };
      expect(diff.specHash).toBe(hashed.status!.specHash);
      const approved = await toolfleet(user, ["review", "approve", `${ns}/presto`, "--area", area, "--spec-hash", diff.specHash, "--kubeconfig", kubeconfig]);
      expect([approved.code, approved.stdout]).toEqual([0, `${area}: Approved ${ns}/presto at spec hash ${diff.specHash} as ${user}`]);
    }

    // The operator verifies the tools and publishes it.
    await waitFor("presto published", async () => (await getServer(ns, "presto"))?.status?.registry?.published === true, 180_000, 500);

    // A person signs in, finds it, checks access and writes Claude Code's configuration.
    expect((await login("ana")).code).toBe(0);
    const listed = await waitFor("presto in ana's list", async () => {
      const r = await toolfleet("ana", ["servers", "-o", "json"]);
      const list = JSON.parse(r.stdout) as Array<{ name: string; status: string }>;
      return list.some((s) => s.name === "presto" && s.status === "Live") ? list : undefined;
    }, 30_000, 250);
    expect(listed.map((s) => s.name)).toEqual(["presto"]);
    const access = await toolfleet("ana", ["access", "presto", "run_query"]);
    expect([access.code, access.stdout]).toEqual([0, expect.stringMatching(/^allowed: ana → presto run_query/)]);
    const project = join(work, "ana-project");
    mkdirSync(project, { recursive: true });
    expect((await toolfleet("ana", ["connect", "presto", "--client", "claude-code", "--write"], { cwd: project })).code).toBe(0);
    const entry = (JSON.parse(readFileSync(join(project, ".mcp.json"), "utf8")) as { mcpServers: { presto: { url: string; headers: Record<string, string> } } }).mcpServers.presto;
    expect(entry.url).toBe(presto.url);

    // An MCP client from exactly that file and the person's token gets real rows.
    const anaToken = (await toolfleet("ana", ["token"])).stdout;
    const ana = await clientFrom(entry, { TOOLFLEET_TOKEN: anaToken });
    try {
      const rows = await ana.call("run_query", { sql: "SELECT name FROM tpch.tiny.region ORDER BY name" });
      expect(rows.isError).toBe(false);
      for (const region of ["AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"]) expect(rows.text).toContain(region);
      // The sensitive tool is not ana's to call.
      expect((await ana.call("cancel_query", { queryId: "20200101_000000_00000_xxxxx" })).isError).toBe(true);
    } finally {
      await ana.client.close();
    }

    // A sensitive tool asks its caller to confirm, and runs only when confirmed.
    expect((await login("olga")).code).toBe(0);
    const olgaToken = (await toolfleet("olga", ["token"])).stdout;
    const queryId = await startLongQuery();
    const declining = await clientFrom(entry, { TOOLFLEET_TOKEN: olgaToken }, "decline");
    try {
      const r = await declining.call("cancel_query", { queryId });
      expect(r).toEqual({ isError: true, text: "Not run: cancel_query was declined by the person asked to confirm it." });
      expect(declining.asked[0]).toContain(`Cancel query ${queryId}`);
    } finally {
      await declining.client.close();
    }
    const confirming = await clientFrom(entry, { TOOLFLEET_TOKEN: olgaToken }, "accept");
    try {
      const r = await confirming.call("cancel_query", { queryId });
      expect(r).toEqual({ isError: false, text: `Cancelled query ${queryId}; it is now FAILED.` });
    } finally {
      await confirming.client.close();
    }
    expect(audit.filter((a) => a.tool === "cancel_query").map((a) => [a.caller, a.outcome])).toEqual([
      [{ kind: "user", subject: "ana" }, "denied"],
      [{ kind: "user", subject: "olga" }, "declined"],
      [{ kind: "user", subject: "olga" }, "ok"],
    ]);

    // An outsider sees nothing, and the server refuses them.
    expect((await login("otto")).code).toBe(0);
    expect((await toolfleet("otto", ["servers", "-o", "json"])).stdout).toBe("[]");
    const ottoToken = (await toolfleet("otto", ["token"])).stdout;
    await expect(clientFrom(entry, { TOOLFLEET_TOKEN: ottoToken })).rejects.toThrow(/403|forbidden/i);
  }, 600_000);
});
