/**
 * A small fleet for the usage suites, without a cluster: the registry (with its usage API) and
 * kit servers as real processes or in-process servers over real HTTP, people's and service
 * accounts' tokens from test issuers, the MCP SDK's own client. Three McpServers: presto
 * (data-platform) and spark (ml) run as workloads; docs (kb) is a remote server.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { TestIssuer } from "../../../auth/test/token-issuer.js";
import { ServedSpec, type McpServerSpecInput, type ToolSpec } from "../../../crds/index.js";
import { repoRoot } from "../../../local/cluster/paths.js";
import type { ServerPolicyInput } from "../../../policy/index.js";
import { nullAuditSink, type DomainServer, type RunningServer } from "../../../servers/kit/index.js";
import { policyFromMcpServer, readSample, type DomainServerName } from "../../../local/domain-servers.js";
import { PolicyVolume, basePolicy, presto } from "../../../servers/kit/test/fixture.js";
import type { KitChildConfig } from "../../../servers/kit/usage/test/kit-child.js";
import { USAGE_DEFAULTS, UsageRecorder } from "../../../servers/kit/usage/recorder.js";
import type { CachedServer } from "../../server-cache.js";
import type { RegistryChildConfig } from "./registry-child.js";
import { createLogger } from "../../../common/log.js";

export const PREFIX = "dev.toolfleet";
export const REGISTRY_AUDIENCE = "https://registry.toolfleet.test";
export const ADMINS = "toolfleet:admins";

export interface FleetServer {
  namespace: string;
  name: string;
  team: string;
  groups: string[];
  serviceAccounts: string[];
  remote?: boolean;
}

export const PRESTO: FleetServer = { namespace: "data-platform", name: "presto", team: "data-platform", groups: ["ads-eng", "finance", "data-platform"], serviceAccounts: ["agents/incident-bot"] };
export const SPARK: FleetServer = { namespace: "ml", name: "spark", team: "ml", groups: ["ads-eng", "ml-eng", "data-platform"], serviceAccounts: [] };
export const DOCS: FleetServer = { namespace: "kb", name: "docs", team: "knowledge", groups: ["ads-eng", "data-platform"], serviceAccounts: [], remote: true };
export const registryNameOf = (s: FleetServer) => `${PREFIX}.${s.namespace}/${s.name}`;

/** The kit fixture's tools and estimates, as every fleet server declares them. */
const tools = (): ToolSpec[] => basePolicy().tools.map((t) => ({ minutesSaved: 0, ...t })) as ToolSpec[];

function mcpServer(s: FleetServer): CachedServer {
  const spec: McpServerSpecInput = {
    title: s.name,
    description: `The ${s.name} server`,
    version: "1.0.0",
    owner: { team: s.team, contact: `#${s.name}-help` },
    ...(s.remote ? { remote: { url: `https://${s.name}.example.com/mcp` } } : { workload: { image: `registry.example.com/${s.name}@sha256:${"c".repeat(64)}`, port: 8080 } }),
    access: { allowedGroups: s.groups, allowedServiceAccounts: s.serviceAccounts },
    tools: tools(),
  };
  const now = "2026-01-01T00:00:00Z";
  return {
    apiVersion: "toolfleet.dev/v1alpha1",
    kind: "McpServer",
    metadata: { name: s.name, namespace: s.namespace, creationTimestamp: now },
    spec,
    status: { phase: "Published", registry: { published: true, name: registryNameOf(s), publishedAt: now }, served: servedAs(s.name, spec) },
    lastWriteAt: now,
  } as CachedServer;
}

export function policyOf(s: FleetServer): ServerPolicyInput {
  return { ...basePolicy(), server: { namespace: s.namespace, name: s.name, registryName: registryNameOf(s) }, access: { allowedGroups: s.groups, allowedServiceAccounts: s.serviceAccounts } };
}

/** People and service accounts: tokens for the kit servers (their resource) and for the registry. */
export class Identity {
  private constructor(
    readonly idp: TestIssuer,
    readonly cluster: TestIssuer,
  ) {}
  static async start(): Promise<Identity> {
    return new Identity(await TestIssuer.start("https://idp.example.com", "https://kit.example.com/mcp"), await TestIssuer.start("https://kubernetes.default.svc.cluster.local", REGISTRY_AUDIENCE));
  }
  person(sub: string, groups: string[], audience: string): Promise<string> {
    return this.idp.userToken(sub, groups, { aud: audience, expiresIn: 3600 });
  }
  serviceAccount(ref: string, audience: string): Promise<string> {
    const [namespace, name] = ref.split("/") as [string, string];
    return this.cluster.sign({ sub: `system:serviceaccount:${namespace}:${name}`, aud: audience, expiresIn: 3600, extra: { "kubernetes.io": { namespace, serviceaccount: { name } } } });
  }
  async stop(): Promise<void> {
    await this.idp.stop();
    await this.cluster.stop();
  }
}

/** A process of ours: its port once it says it listens, its output kept for the failure message. */
export interface Child {
  proc: ChildProcess;
  port: number;
  output: () => string;
  kill(): Promise<void>;
  stop(): Promise<void>;
}

function compiled(path: string): string {
  const file = join(repoRoot(), "dist", path);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`make build\` first`);
  return file;
}

async function spawnChild(path: string, env: Record<string, string>): Promise<Child> {
  const proc = spawn(process.execPath, ["--no-warnings", compiled(path)], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-200_000)));
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    // Generous: on a shared, loaded machine a cold start of Node and its modules takes long.
    const timer = setTimeout(() => {
      proc.kill("SIGKILL"); // never leave a half-started process behind
      reject(new Error(`${path} did not start in 120 s:\n${out}`));
    }, 120_000);
    const check = () => {
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    proc.stdout!.on("data", check);
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${path} exited with ${code}:\n${out}`));
    });
  });
  return {
    proc,
    port,
    output: () => out,
    async kill() {
      proc.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      await exited;
    },
  };
}

export interface RegistryProcess extends Child {
  url: string;
}

export async function startRegistryProcess(identity: Identity, database: { url?: string; file: string }, port = 0, servers: CachedServer[] = [PRESTO, SPARK, DOCS].map(mcpServer)): Promise<RegistryProcess> {
  const config: RegistryChildConfig = {
    port,
    database,
    registryPrefix: PREFIX,
    servers,
    users: { issuer: identity.idp.issuer, jwksUrl: identity.idp.jwksUrl },
    serviceAccounts: { issuer: identity.cluster.issuer, jwksUrl: identity.cluster.jwksUrl },
    audience: REGISTRY_AUDIENCE,
    adminGroups: [ADMINS],
    reviewerGroups: { security: "security-reviewers" },
  };
  const child = await spawnChild("registry-api/usage/test/registry-child.js", { TOOLFLEET_TEST_REGISTRY: JSON.stringify(config) });
  return { ...child, url: `http://127.0.0.1:${child.port}` };
}

export interface KitServer {
  mcpUrl: string;
  metricsUrl: string;
  stop(): Promise<void>;
}

const KIT_URL = "https://kit.example.com";

/** Writes the server's usage token (its own service account, for the registry) to a file. */
async function tokenFile(identity: Identity, s: FleetServer, dir: string): Promise<string> {
  const file = join(dir, "token");
  writeFileSync(file, await identity.serviceAccount(`${s.namespace}/${s.name}`, REGISTRY_AUDIENCE));
  return file;
}

type RecorderOptions = Partial<ConstructorParameters<typeof UsageRecorder>[0]>;

/**
 * `domain` in this process with `policy`, people's and the cluster's keys from `identity`, and
 * usage recorded into `bufferDir` with the server account `account`'s token for the registry.
 */
async function startInProcess(identity: Identity, domain: DomainServer, policy: Parameters<PolicyVolume["write"]>[0], account: string, registryUrl: string, bufferDir: string, over: RecorderOptions, logs?: string[]): Promise<RunningServer> {
  const volume = new PolicyVolume();
  volume.write(policy);
  const token = await identity.serviceAccount(account, REGISTRY_AUDIENCE);
  const usage = new UsageRecorder({ ...USAGE_DEFAULTS, backoffMaxMs: 1000, registryUrl, dir: bufferDir, token: () => token, ...over });
  return domain.start({
    policyFile: volume.path,
    publicUrl: KIT_URL,
    port: 0,
    host: "127.0.0.1",
    auth: { users: { issuer: identity.idp.issuer, keys: { jwksUrl: identity.idp.jwksUrl } }, serviceAccounts: { issuer: identity.cluster.issuer, keys: { jwksUrl: identity.cluster.jwksUrl } } },
    audit: nullAuditSink,
    logger: createLogger({}, { sink: (l) => void logs?.push(l) }),
    processMetrics: false,
    usage,
  });
}

/** A kit server in this process, recording usage into `bufferDir`. */
export async function startKit(identity: Identity, s: FleetServer, registryUrl: string, bufferDir: string, over: RecorderOptions = {}): Promise<KitServer & { server: RunningServer; logs: string[] }> {
  const logs: string[] = [];
  const server = await startInProcess(identity, presto, policyOf(s), `${s.namespace}/${s.name}`, registryUrl, bufferDir, over, logs);
  return { server, logs, mcpUrl: `${server.url}/mcp`, metricsUrl: `${server.url}/metrics`, stop: () => server.stop() };
}

/** What the operator writes once a spec is approved: the registry serves only this. */
function servedAs(name: string, spec: unknown) {
  const specHash = "b".repeat(64);
  return { revision: `${name}-${specHash.slice(0, 10)}`, specHash, narrowed: false, spec: ServedSpec.parse(spec) };
}

/** A sample McpServer (crds/samples) as the registry caches it, published. */
export function sampleServer(name: DomainServerName): CachedServer {
  const m = readSample(name);
  const now = "2026-01-01T00:00:00Z";
  return {
    apiVersion: m.apiVersion,
    kind: m.kind,
    metadata: { name: m.metadata.name, namespace: m.metadata.namespace, creationTimestamp: now },
    spec: m.spec,
    status: { phase: "Published", registry: { published: true, name: `${PREFIX}.${m.metadata.namespace}/${m.metadata.name}`, publishedAt: now }, served: servedAs(m.metadata.name, m.spec) },
    lastWriteAt: now,
  } as CachedServer;
}

/** A real domain server (its own backend behind it) with the policy the operator derives from its sample. */
export async function startDomainKit(identity: Identity, name: DomainServerName, domain: DomainServer, registryUrl: string, bufferDir: string): Promise<KitServer> {
  const m = readSample(name);
  const policy = policyFromMcpServer(m, { registryPrefix: PREFIX });
  const server = await startInProcess(identity, domain, policy, `${m.metadata.namespace}/${m.metadata.name}`, registryUrl, bufferDir, {});
  return { mcpUrl: `${server.url}/mcp`, metricsUrl: `${server.url}/metrics`, stop: () => server.stop() };
}

/** The same kit server as a process of its own, to be killed. */
export async function startKitProcess(identity: Identity, s: FleetServer, registryUrl: string, bufferDir: string, port = 0): Promise<KitServer & Child> {
  const volume = new PolicyVolume();
  volume.write(policyOf(s));
  const config: KitChildConfig = {
    port,
    policyFile: volume.path,
    publicUrl: KIT_URL,
    users: { issuer: identity.idp.issuer, jwksUrl: identity.idp.jwksUrl },
    serviceAccounts: { issuer: identity.cluster.issuer, jwksUrl: identity.cluster.jwksUrl },
    usage: { registryUrl, dir: bufferDir, tokenFile: await tokenFile(identity, s, mkdtempSync(join(tmpdir(), "kit-token-"))), backoffMaxMs: 1000 },
  };
  const child = await spawnChild("servers/kit/usage/test/kit-child.js", { TOOLFLEET_TEST_KIT: JSON.stringify(config) });
  return { ...child, mcpUrl: `http://127.0.0.1:${child.port}/mcp`, metricsUrl: `http://127.0.0.1:${child.port}/metrics` };
}

/** The MCP SDK's client as a person or service; `confirm` answers confirmations. */
export async function mcpClient(mcpUrl: string, token: string, confirm?: "accept" | "decline"): Promise<Client> {
  const client = new Client({ name: "usage-test", version: "1.0.0" }, { capabilities: confirm ? { elicitation: { form: {} } } : {} });
  if (confirm) client.setRequestHandler(ElicitRequestSchema, async () => (confirm === "accept" ? { action: "accept", content: {} } : { action: "decline" }));
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

export async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

export async function api<T = Record<string, unknown>>(base: string, path: string, token: string | undefined, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const headers = new Headers(init.headers);
  if (token) headers.set("authorization", `Bearer ${token}`);
  if (init.body) headers.set("content-type", "application/json");
  const res = await fetch(`${base}${path}`, { ...init, headers });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* keep the text */
  }
  return { status: res.status, body: body as T };
}


export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

/** A seeded generator (mulberry32): the same numbers on every run, so a figure or failure can be replayed. */
export function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
