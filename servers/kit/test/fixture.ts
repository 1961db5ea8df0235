/**
 * A real kit server for tests: a domain server with counted tools, a policy file laid out the
 * way a ConfigMap volume is (a `..data` symlink swapped atomically), tokens from a real JWKS
 * endpoint, and the SDK's own client over HTTP.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema, type CallToolResult, type ElicitResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { ServerPolicyInput } from "../../../policy/index.js";
import { TestIssuer } from "../../../auth/test/token-issuer.js";
import { MemoryAuditSink, createDomainServer, type KitOptions, type RunningServer } from "../index.js";
import { createLogger } from "../../../common/log.js";

export const PUBLIC_URL = "https://presto.example.com";
export const RESOURCE = `${PUBLIC_URL}/mcp`;
export const SA_ISSUER = "https://kubernetes.default.svc.cluster.local";

/** How many times each tool's handler really ran. */
export const ran: Record<string, number> = {};
const count = (tool: string) => (ran[tool] = (ran[tool] ?? 0) + 1);

export const presto = createDomainServer({
  name: "presto",
  version: "1.4.0",
  tools: [
    {
      name: "run_query",
      description: "Run a read-only SQL query",
      input: z.object({ sql: z.string().min(1) }),
      readOnly: true,
      handler: (args) => {
        count("run_query");
        return `rows for ${args.sql}`;
      },
    },
    {
      name: "kill_query",
      description: "Kill a running query",
      input: z.object({ id: z.string() }),
      sensitive: true,
      confirm: (args) => `Kill query ${args.id}?`,
      handler: (args) => {
        count("kill_query");
        return `killed ${args.id}`;
      },
    },
    {
      name: "revenue",
      description: "Read the revenue table",
      readOnly: true,
      handler: (_args, ctx) => {
        ctx.authorize((c) => c.kind === "user" && c.groups.includes("finance"), "revenue tables are for finance only");
        count("revenue");
        return "revenue: 42";
      },
    },
    {
      name: "flaky",
      description: "Fails",
      handler: () => {
        count("flaky");
        throw new Error("backend unreachable: presto-coordinator:8080 refused the connection");
      },
    },
    {
      name: "slow",
      description: "Takes a while",
      readOnly: true,
      input: z.object({ ms: z.number().int().max(5000) }),
      handler: async (args) => {
        await new Promise((r) => setTimeout(r, args.ms));
        count("slow");
        return "done";
      },
    },
    { name: "undeclared", description: "Not in the policy", handler: () => (count("undeclared"), "should never run") },
  ],
});

export const VERIFIER = "toolfleet-system/toolfleet-operator";
export function basePolicy(): ServerPolicyInput {
  return {
    server: { namespace: "data-platform", name: "presto", registryName: "dev.toolfleet.data-platform/presto" },
    access: { allowedGroups: ["ads-eng", "finance", "data-platform"], allowedServiceAccounts: ["agents/incident-bot"] },
    tools: [
      { name: "run_query", readOnly: true, minutesSaved: 5 },
      { name: "kill_query", sensitive: true, allowedGroups: ["data-platform"], minutesSaved: 10 },
      { name: "revenue", readOnly: true, minutesSaved: 2 },
      { name: "flaky", minutesSaved: 7 },
      { name: "slow", readOnly: true },
    ],
    verifier: VERIFIER,
  };
}

/** A ConfigMap-volume-shaped directory: policy.json -> ..data/policy.json, ..data -> ..<version>. */
export class PolicyVolume {
  readonly dir = mkdtempSync(join(tmpdir(), "kit-policy-"));
  readonly path = join(this.dir, "policy.json");
  private version = 0;

  write(content: ServerPolicyInput | string): void {
    const versionDir = join(this.dir, `..v${++this.version}`);
    mkdirSync(versionDir);
    writeFileSync(join(versionDir, "policy.json"), typeof content === "string" ? content : JSON.stringify(content));
    symlinkSync(`..v${this.version}`, join(this.dir, "..data_tmp"));
    renameSync(join(this.dir, "..data_tmp"), join(this.dir, "..data")); // the atomic swap
    try {
      symlinkSync("..data/policy.json", this.path);
    } catch {
      /* already linked */
    }
    if (this.version > 1) rmSync(join(this.dir, `..v${this.version - 1}`), { recursive: true });
  }
}

export interface Harness {
  server: RunningServer;
  audit: MemoryAuditSink;
  logs: string[];
  volume: PolicyVolume;
  idp: TestIssuer;
  cluster: TestIssuer;
  mcpUrl: string;
  clients: Client[];
  stop(): Promise<void>;
}

export async function startHarness(overrides: Partial<KitOptions> = {}, policy: ServerPolicyInput | null = basePolicy()): Promise<Harness> {
  const idp = await TestIssuer.start("https://idp.example.com", RESOURCE);
  const cluster = await TestIssuer.start(SA_ISSUER, RESOURCE);
  const volume = new PolicyVolume();
  if (policy) volume.write(policy);
  const audit = new MemoryAuditSink();
  const logs: string[] = [];
  const server = await presto.start({
    policyFile: volume.path,
    publicUrl: PUBLIC_URL,
    port: 0,
    host: "127.0.0.1",
    auth: {
      users: { issuer: idp.issuer, keys: { jwksUrl: idp.jwksUrl, cooldownMs: 0 } },
      serviceAccounts: { issuer: SA_ISSUER, keys: { jwksUrl: cluster.jwksUrl } },
    },
    audit,
    logger: createLogger({}, { sink: (l) => void logs.push(l) }),
    processMetrics: false,
    policyPollMs: 100,
    elicitationTimeoutMs: 2000,
    ...overrides,
  });
  const clients: Client[] = [];
  return {
    server,
    audit,
    logs,
    volume,
    idp,
    cluster,
    mcpUrl: `${server.url}/mcp`,
    clients,
    async stop() {
      await Promise.all(clients.map((c) => c.close().catch(() => {})));
      await server.stop();
      await idp.stop();
      await cluster.stop();
    },
  };
}

export const saToken = (h: Harness, ns: string, name: string) =>
  h.cluster.sign({ sub: `system:serviceaccount:${ns}:${name}`, extra: { "kubernetes.io": { namespace: ns, serviceaccount: { name } } } });

export type Confirm = (message: string) => Promise<ElicitResult> | ElicitResult;

/** The SDK's Client over Streamable HTTP, with the token; `confirm` answers elicitations. */
export async function connect(h: Harness, token: string, confirm?: Confirm): Promise<Client & { asked: string[] }> {
  const client = new Client({ name: "test-client", version: "1.0.0" }, { capabilities: confirm ? { elicitation: { form: {} } } : {} });
  const asked: string[] = [];
  if (confirm) {
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(request.params.message);
      return confirm(request.params.message);
    });
  }
  const transport = new StreamableHTTPClientTransport(new URL(h.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  await client.connect(transport);
  h.clients.push(client);
  return Object.assign(client, { asked });
}

export async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<{ text: string; isError: boolean }> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const first = result.content[0];
  return { text: first?.type === "text" ? first.text : JSON.stringify(result.content), isError: result.isError === true };
}

/** A raw initialize POST, to see HTTP status and headers as a client does. */
export async function initialize(h: Harness, headers: Record<string, string>, body?: string): Promise<Response> {
  return fetch(h.mcpUrl, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body:
      body ??
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } }),
  });
}

/** Reads one sample from the Prometheus text format; 0 when the series does not exist. */
export function sample(metrics: string, name: string, labels: Record<string, string>): number {
  for (const line of metrics.split("\n")) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] as string).matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return 0;
}

export async function metricsText(h: Harness): Promise<string> {
  return (await fetch(`${h.server.url}/metrics`)).text();
}

