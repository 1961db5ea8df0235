/**
 * Usage delivery as a cluster wires it. The operator, configured as the chart configures it,
 * writes a sample's pod spec; a kit is configured from exactly that spec: its environment
 * resolved as the kubelet resolves it, each volume a directory (the projected token minted by
 * the API server's TokenRequest for the pod's service account and the volume's audience, the
 * buffer an empty directory). The registry, checking service-account tokens against the API
 * server's own keys and by TokenReview, accepts what that kit delivers; a token for another
 * audience is refused, and nothing is lost: once the right token is back, the records arrive.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { createAuthenticator, kubernetesJwksFetch } from "../../../auth/index.js";
import { McpServerSpec, ServedSpec } from "../../../crds/index.js";
import { cluster, clusterTls, deleteNamespace, serviceAccountToken, testNamespace } from "../../../local/cluster/harness.js";
import { readSample } from "../../../local/domain-servers.js";
import { childNames } from "../../../mcpserver/index.js";
import type { McpServerObject } from "../../../mcpserver/type.js";
import { desiredChildren } from "../../../operator/children.js";
import { childrenConfig, loadConfig } from "../../../operator/config.js";
import { servedSpec } from "../../../operator/spec-hash.js";
import { silentLogger } from "../../../common/log.js";
import { waitFor } from "../../../local/wait-for.js";
import { optionsFromEnv } from "../../../servers/kit/env.js";
import type { UsageRecorder } from "../../../servers/kit/usage/recorder.js";
import { createRegistryApp } from "../../app.js";
import { Catalog } from "../../catalog.js";
import type { CachedServer } from "../../server-cache.js";
import { openUsageStore } from "../open.js";
import type { UsageStore } from "../store.js";
import { api } from "./fleet.js";

const AUDIENCE = "toolfleet-usage-test";
const CHART_FLAGS = ["--oidc-issuer=https://idp.example.com", "--oidc-jwks-url=https://idp.example.com/jwks", "--groups-claim=roles"];

type EnvVar = { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } };
interface PodSpec {
  serviceAccountName: string;
  containers: Array<{ env: EnvVar[]; volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }> }>;
  volumes: Array<{ name: string; emptyDir?: object; configMap?: object; projected?: { sources: Array<{ serviceAccountToken?: { audience: string; expirationSeconds: number; path: string } }> } }>;
}

let ns: string;
let store: UsageStore;
let registryUrl: string;
let closeRegistry: () => Promise<void>;
let raw: McpServerObject;

beforeAll(async () => {
  ns = await testNamespace("usage-wire");
  raw = structuredClone(readSample("presto")) as McpServerObject;
  raw.metadata = { ...raw.metadata, namespace: ns, uid: "uid-1" };
  const now = "2026-01-01T00:00:00Z";
  const spec = McpServerSpec.parse(raw.spec);
  const cached = {
    ...raw,
    metadata: { name: raw.metadata.name, namespace: ns, creationTimestamp: now },
    status: { phase: "Published", registry: { published: true, name: `dev.toolfleet.local.${ns}/${raw.metadata.name}`, publishedAt: now }, served: { revision: "r", specHash: "b".repeat(64), narrowed: false, spec: ServedSpec.parse(spec) } },
    lastWriteAt: now,
  } as unknown as CachedServer;
  store = await openUsageStore({ file: join(mkdtempSync(join(tmpdir(), "usage-wire-")), "usage.sqlite"), retentionDays: 400 }, silentLogger);
  const tls = clusterTls();
  const app = createRegistryApp({
    catalog: new Catalog({ list: () => [cached], onChange: () => () => undefined }, { registryPrefix: "dev.toolfleet.local", clusterDomain: "cluster.local", verifierServiceAccount: "toolfleet-system/toolfleet-operator" }),
    // The API server's --service-account-issuer is its own URL on the local control plane.
    authenticator: createAuthenticator({ serviceAccounts: { issuer: cluster().server, audience: AUDIENCE, keys: { jwksUrl: `${cluster().server}/openid/v1/jwks`, fetch: kubernetesJwksFetch({ ca: tls.ca, clientCert: tls.admin }) } } }),
    roles: { reviewerGroups: {}, adminGroups: ["toolfleet:admins"] },
    allowAnonymous: false,
    publicUrl: "http://127.0.0.1",
    health: { live: () => true, ready: () => true },
    usage: store,
  });
  const server = createServer(app).listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  registryUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  closeRegistry = () => new Promise((resolve) => server.close(() => resolve()));
}, 120_000);

afterAll(async () => {
  await closeRegistry?.();
  await store?.close();
  if (ns) await deleteNamespace(ns);
});

/** The Deployment's pod spec the operator writes with the chart's settings and usage on. */
function podSpec(flags: string[]): PodSpec {
  const config = loadConfig(flags, {});
  const children = desiredChildren(raw, servedSpec(McpServerSpec.parse(raw.spec)), 1, childrenConfig(config));
  const deployment = children.find((c) => c.type.kind === "Deployment")!.object as unknown as { spec: { template: { spec: PodSpec } } };
  return deployment.spec.template.spec;
}

/**
 * What the kubelet gives the container: each volume a directory (a projected token minted for
 * the pod's account and the volume's audience), the environment resolved, and the paths under
 * a mount pointing into its directory here.
 */
async function kubeletFor(pod: PodSpec): Promise<{ env: Record<string, string> }> {
  const root = mkdtempSync(join(tmpdir(), "usage-pod-"));
  const container = pod.containers[0]!;
  const mounts = new Map(container.volumeMounts.map((m) => [m.mountPath, join(root, m.name)]));
  for (const v of pod.volumes) {
    const dir = join(root, v.name);
    mkdirSync(dir, { recursive: true });
    const sa = v.projected?.sources.find((s) => s.serviceAccountToken)?.serviceAccountToken;
    if (sa) writeFileSync(join(dir, sa.path), await serviceAccountToken(ns, pod.serviceAccountName, [sa.audience], sa.expirationSeconds));
  }
  const env: Record<string, string> = {};
  for (const e of container.env) {
    const value = e.value !== undefined ? e.value.replace(/\$\(([A-Z0-9_]+)\)/g, (m, name: string) => env[name] ?? m) : e.valueFrom?.fieldRef?.fieldPath === "status.podIP" ? "10.88.0.7" : undefined;
    if (value === undefined) continue;
    const mount = [...mounts.keys()].find((m) => value === m || value.startsWith(`${m}/`));
    env[e.name] = mount ? mounts.get(mount)! + value.slice(mount.length) : value;
  }
  return { env };
}

describe("usage delivery from the pod spec the operator writes", () => {
  let usage: UsageRecorder;
  let metrics: Registry;
  const server = () => `dev.toolfleet.local.${ns}/${raw.metadata.name}`;
  const call = (subject: string) => ({ server: server(), tool: "run_query", caller: { kind: "user" as const, subject, groups: ["ads-eng"] }, outcome: "ok" as const, durationMs: 5, minutesSaved: 4 });

  afterAll(async () => {
    await usage?.close();
  });

  it("gives the pod the registry's URL, a token of its own account for the registry's audience and a writable buffer, and no key", async () => {
    const pod = podSpec([...CHART_FLAGS, `--usage-url=${registryUrl}`, `--usage-audience=${AUDIENCE}`]);
    expect(pod.serviceAccountName).toBe(childNames(raw.metadata.name).serviceAccount);
    expect(pod.volumes.find((v) => v.name === "usage-token")?.projected?.sources).toEqual([{ serviceAccountToken: { audience: AUDIENCE, expirationSeconds: 3600, path: "token" } }]);
    expect(pod.volumes.find((v) => v.name === "usage-buffer")?.emptyDir).toEqual({ sizeLimit: "512Mi" });
    const mounts = pod.containers[0]!.volumeMounts;
    expect(mounts.find((m) => m.name === "usage-token")).toMatchObject({ readOnly: true });
    expect(mounts.find((m) => m.name === "usage-buffer")?.readOnly).toBeUndefined();
    // Nothing in the pod refers to a Secret: the caller-hash key stays in the registry.
    expect(JSON.stringify(pod)).not.toMatch(/secretKeyRef|secretRef|"secret":|HASH_KEY/);

    const { env } = await kubeletFor(pod);
    expect(env.TOOLFLEET_USAGE_URL).toBe(registryUrl);
    const options = optionsFromEnv(env); // the kit's own start-up check
    expect(options.usage).toBeDefined();
    usage = options.usage as UsageRecorder;
    metrics = new Registry();
    await usage.start({ registry: metrics, logger: silentLogger });
    usage.record(call("ann"));
    usage.record(call("ann"));
    usage.record(call("bob"));
    await waitFor("the three records stored", async () => (await store.rawCount()) === 3, 30_000);
    const today = new Date().toISOString().slice(0, 10);
    expect((await store.impact({ from: today, to: today, servers: undefined, groupBy: "server", estimate: "declared" })).groups).toEqual([
      { key: server(), server: server(), calls: 3, okCalls: 3, people: 2, minutesSaved: 12, hoursSaved: 0.2 },
    ]);
  }, 120_000);

  it("refuses a token for another audience; the records wait in the buffer and arrive once the right token is back", async () => {
    const pod = podSpec([...CHART_FLAGS, `--usage-url=${registryUrl}`, `--usage-audience=${AUDIENCE}`]);
    const wrong = await serviceAccountToken(ns, pod.serviceAccountName, ["https://some-other-service.example.com"]);
    const record = { id: "00000000-0000-4000-8000-00000000000a", server: server(), tool: "run_query", caller: "eve", callerKind: "person", outcome: "ok", durationMs: 1, minutesSaved: 1, at: new Date().toISOString() };
    const direct = await api(registryUrl, "/api/v1/usage", wrong, { method: "POST", body: JSON.stringify({ records: [record] }) });
    expect(direct.status).toBe(401);

    // The kit's own token file now holds a token for the wrong audience (as a misconfigured pod would).
    const { env } = await kubeletFor(pod);
    const tokenFile = env.TOOLFLEET_USAGE_TOKEN_FILE!;
    writeFileSync(tokenFile, wrong);
    await usage?.close();
    const options = optionsFromEnv(env);
    usage = options.usage as UsageRecorder;
    metrics = new Registry();
    await usage.start({ registry: metrics, logger: silentLogger });
    usage.record(call("cy"));
    await waitFor("deliveries refused", async () => (await metricValue(metrics, "toolfleet_usage_delivery_failures_total")) >= 2, 60_000);
    expect(await store.rawCount()).toBe(3);
    expect(await metricValue(metrics, "toolfleet_usage_records_buffered")).toBe(1);

    writeFileSync(tokenFile, await serviceAccountToken(ns, pod.serviceAccountName, [AUDIENCE]));
    await waitFor("the buffered record delivered with the right token", async () => (await store.rawCount()) === 4, 60_000);
    // The kit forgets the segment once the registry's answer reaches it.
    await waitFor("the buffer empties", async () => (await metricValue(metrics, "toolfleet_usage_records_buffered")) === 0, 30_000);
  }, 180_000);
});

async function metricValue(registry: Registry, name: string): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return m?.values.reduce((n, v) => n + Number(v.value), 0) ?? 0;
}
