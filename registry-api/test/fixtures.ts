/**
 * What the registry's suites share: McpServers written straight into the real control plane
 * (spec as a team would, status as the operator would: the registry's contract is "serve what
 * status says"), a registry on them with a test issuer, and an HTTP client.
 */
import { KubeClient, type ConnectionConfig, type KubeObject } from "../../runtime/index.js";
import { McpServerType } from "../../mcpserver/index.js";
import { API_VERSION, KIND, ServedSpec, type McpServerSpecInput, type McpServerStatus } from "../../crds/index.js";
import { adminConfig } from "../../local/cluster/harness.js";
import { TestIssuer } from "../../auth/test/token-issuer.js";
import { loadRegistryConfig } from "../config.js";
import { startRegistry, type RunningRegistry } from "../registry.js";
import { ensureCreated } from "../../test/operator/fleet.js";

export const AUDIENCE = "https://registry.toolfleet.test";
export const ISSUER = "https://idp.toolfleet.test";
export const PREFIX = "dev.toolfleet.local";
export const HASH = "b".repeat(64);

export const kube = () => new KubeClient(adminConfig(), { qps: 400, burst: 400, userAgent: "registry-test" });

export interface ServerShape {
  groups?: string[];
  serviceAccounts?: string[];
  tools?: McpServerSpecInput["tools"];
  title?: string;
  description?: string;
  version?: string;
  published?: boolean;
  phase?: NonNullable<McpServerStatus["phase"]>;
  pending?: string[];
}

export function spec(shape: ServerShape): McpServerSpecInput {
  return {
    title: shape.title ?? "A server",
    description: shape.description ?? "Does things for tests",
    version: shape.version ?? "1.0.0",
    owner: { team: "data-platform", contact: "#help" },
    remote: { url: "https://mcp.example.com/mcp" },
    access: { allowedGroups: shape.groups ?? [], allowedServiceAccounts: shape.serviceAccounts ?? [] },
    tools: shape.tools ?? [{ name: "read_things", readOnly: true, minutesSaved: 2 }],
  };
}

/** `servedSpec`: the spec that was approved (default: the one `shape` describes). */
export function status(namespace: string, name: string, shape: ServerShape, servedSpec: unknown = spec(shape)): McpServerStatus {
  const published = shape.published ?? true;
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const pending = shape.pending ?? (published ? [] : ["security", "legal", "genai"]);
  return {
    phase: shape.phase ?? (published ? "Published" : "PendingReview"),
    url: "https://mcp.example.com/mcp",
    specHash: HASH,
    review: { approved: published, pending, stale: [], rejected: [] },
    // What the operator writes once every area approved: the registry serves this, never spec.
    ...(published ? { served: { revision: `${name}-${HASH.slice(0, 10)}`, specHash: HASH, narrowed: false, spec: ServedSpec.parse(servedSpec) } } : {}),
    registry: { published, name: `${PREFIX}.${namespace}/${name}`, ...(published ? { publishedAt: now } : {}) },
    conditions: [
      { type: "Published", status: published ? "True" : "False", reason: published ? "Published" : "ReviewPending", message: published ? "served by the registry" : "waiting for review", lastTransitionTime: now },
    ],
  };
}

/** Creates the McpServer and writes its status. */
export async function putServer(client: KubeClient, namespace: string, name: string, shape: ServerShape = {}): Promise<void> {
  await ensureCreated(client, McpServerType, { apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace }, spec: spec(shape) } as KubeObject);
  // The spec just created is the approved one: no need to read it back.
  await client.request("PATCH", client.path(McpServerType, namespace, name, "status"), { status: status(namespace, name, shape) }, undefined, "application/merge-patch+json");
}

/** Writes the status the operator would, approving the object's current spec when `shape` says published. */
export async function setStatus(client: KubeClient, namespace: string, name: string, shape: ServerShape): Promise<void> {
  const current = await client.get<{ metadata: { name: string }; spec: { review?: unknown } }>(McpServerType, namespace, name);
  const { review: _review, ...approved } = current?.spec ?? spec(shape);
  await client.request("PATCH", client.path(McpServerType, namespace, name, "status"), { status: status(namespace, name, shape, approved) }, undefined, "application/merge-patch+json");
}

export async function deleteServer(client: KubeClient, namespace: string, name: string): Promise<void> {
  await client.delete(McpServerType, namespace, name);
}

/** Runs `fn` over `items`, `width` at a time. */
export async function inParallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

export interface TestRegistry {
  registry: RunningRegistry;
  issuer: TestIssuer;
  stop(): Promise<void>;
}

/** A registry serving one namespace, trusting a test issuer and the cluster's service accounts. */
/** A registry on `namespace`, as the admin unless given other credentials. */
export async function startTestRegistry(namespace: string, env: Record<string, string> = {}, kc: ConnectionConfig = adminConfig()): Promise<TestRegistry> {
  const issuer = await TestIssuer.start(ISSUER, AUDIENCE);
  const config = loadRegistryConfig([], {
    REGISTRY_PORT: "0",
    TOOLFLEET_NAMESPACES: namespace,
    REGISTRY_OIDC_ISSUER: ISSUER,
    REGISTRY_OIDC_AUDIENCE: AUDIENCE,
    REGISTRY_OIDC_JWKS_URL: issuer.jwksUrl,
    REGISTRY_SERVICE_ACCOUNT_AUDIENCE: AUDIENCE,
    ...env,
  });
  const registry = await startRegistry(config, kc);
  return {
    registry,
    issuer,
    async stop() {
      await registry.stop();
      await issuer.stop();
    },
  };
}

export interface Answer<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

export async function call<T = unknown>(base: string, path: string, token?: string, init: RequestInit = {}): Promise<Answer<T>> {
  const headers = new Headers(init.headers);
  if (token !== undefined) headers.set("authorization", `Bearer ${token}`);
  const res = await fetch(`${base}${path}`, { ...init, headers });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: body as T, headers: res.headers };
}

export interface ListBody {
  servers: Array<{ server: { name: string; version: string; title: string; remotes: Array<{ type: string; url: string }> }; _meta: Record<string, Record<string, unknown>> }>;
  metadata: { nextCursor?: string; count: number };
}
