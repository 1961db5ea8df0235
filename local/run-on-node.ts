/**
 * `make run TOOLFLEET_REAL_NODE=1`: the domain servers as workload McpServers on the real node,
 * from the images `make images` builds, instead of processes on this machine registered as
 * remote servers.
 *
 * The operator (still on this machine) deploys them as it would on any cluster; what this
 * module adds is what a cluster would already have around them:
 * - the namespace sends its pods to the real node (local/node/harness.ts annotations);
 * - each sample keeps its spec, with the built image by digest in place of the example
 *   registry's and its backend's address in place of the example one;
 * - services that listen on this machine's loopback (the local backends, Keycloak's keys, the
 *   registry that takes usage records) are relayed from the node's bridge address, the only
 *   host address pods reach;
 * - the operator's flags tell every workload whom to trust (people's issuer and keys, the
 *   cluster's service-account issuer) and where to report usage;
 * - the servers' accounts may ask TokenReviews, as the chart grants with
 *   `serviceAccountIssuer.grantTokenReview`.
 */
import { readFileSync } from "node:fs";
import { pki } from "./cluster/controlplane.js";
import { servingCredentials } from "./cluster/pki.js";
import { kubectl } from "./cluster/kubectl.js";
import { startAirflow, startSparkHistory, startTrino, type KeycloakBackend } from "./backends/harness.js";
import { freePort } from "./ports.js";
import { NODE_IP } from "./node/config.js";
import { REAL_NODE_NAMESPACE_ANNOTATIONS } from "./node/harness.js";
import { pinnedRef, projectImages } from "./node/images.js";
import { startRelay, type Relay } from "./node/relay.js";
import { readSample, type DomainServerName } from "./domain-servers.js";
import type { McpServer as McpServerObject } from "../crds/index.js";
import type { Env } from "../servers/kit/index.js";

/** The cluster's own address for the API server, from pods (the `kubernetes` Service). */
const API_SERVER_FROM_PODS = "https://10.96.0.1";
/** Outbound TLS of the workloads also trusts the cluster CA (mounted in every pod with its account's token). */
const TRUST_CLUSTER_CA = { name: "NODE_EXTRA_CA_CERTS", value: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt" };
/** Where the airflow sample reads its password (crds/samples/airflow.yaml). */
const AIRFLOW_SECRET = { name: "airflow-mcp", key: "password" };

export interface NodeRunOptions {
  namespace: string;
  names: readonly DomainServerName[];
  provider: KeycloakBackend;
  /** Audience of people's tokens for the servers. */
  mcpAudience: string;
  /** The registry on this machine's loopback, and the audience it accepts usage reports with. */
  registry: { port: number; audience: string };
  /** The control plane's service-account token issuer. */
  saIssuer: string;
  /** Backends by environment (PRESTO_URL, SPARK_URL or SPARK_HISTORY_URL, AIRFLOW_URL…); unset: the local ones. */
  env?: Env;
}

export interface NodeServer {
  name: DomainServerName;
  /** The backend as this machine sees it, and whether it is a local one. */
  backend: { url: string; local: boolean };
  manifest: McpServerObject;
}

export interface NodeRun {
  /** Flags for the operator so that its workloads trust people and service accounts and report usage. */
  operatorArgs: string[];
  servers: NodeServer[];
  /** Secrets and bindings the servers need, to apply before them. */
  prerequisites: object[];
  stop(): Promise<void>;
}

/** The namespace of `make run`'s servers, sending its pods to the real node (or not). */
export function runNamespace(name: string, onNode: boolean): object {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, annotations: onNode ? REAL_NODE_NAMESPACE_ANNOTATIONS : {} } };
}

/** The built image of a domain server, by digest, or an error that says how to build it. */
export function builtImage(name: DomainServerName): string {
  const image = projectImages().find((i) => i.ref.startsWith(`localhost/toolfleet/toolfleet-${name}:`));
  if (!image?.digest) throw new Error(`dist/images has no toolfleet-${name} image: run \`make images\` (\`make run TOOLFLEET_REAL_NODE=1\` does)`);
  return pinnedRef(image.ref, image.digest);
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * A URL pods can use for `url`: one on this machine's loopback is relayed from the node's
 * bridge address (same path); any other is returned as it is. With `https`, a plain http
 * service is offered over TLS, with a certificate of the cluster CA for the bridge address
 * (pods trust it through NODE_EXTRA_CA_CERTS, see nodeManifest): for key sets, which the kit
 * takes only over https from another host.
 */
export async function reachableFromPods(url: string, relays: Relay[], options: { https?: boolean } = {}): Promise<string> {
  const u = new URL(url);
  if (!LOOPBACK.has(u.hostname)) return url;
  const port = await freePort();
  const target = { host: "127.0.0.1", port: Number(u.port || (u.protocol === "https:" ? 443 : 80)) };
  const tls = options.https && u.protocol === "http:" ? servingCredentials(pki(), "toolfleet-run-relay", [NODE_IP]) : undefined;
  relays.push(await startRelay({ host: NODE_IP, port }, target, tls ? { tls: { key: readFileSync(tls.key, "utf8"), cert: readFileSync(tls.cert, "utf8") } } : {}));
  if (tls) u.protocol = "https:";
  u.hostname = NODE_IP;
  u.port = String(port);
  return u.toString().replace(/\/$/, "");
}

interface Backend {
  /** As this machine sees it. */
  url: string;
  local: boolean;
  /** The workload's backend settings (replacing the sample's of the same names). */
  env: Array<{ name: string; value: string }>;
  secret?: Record<string, string>;
}

const has = (env: Env, name: string) => Boolean(env[name]?.trim());
const passed = (env: Env, names: string[]) => names.filter((n) => has(env, n)).map((n) => ({ name: n, value: env[n]!.trim() }));

async function backendFor(name: DomainServerName, env: Env, relays: Relay[]): Promise<Backend> {
  switch (name) {
    case "presto": {
      if (has(env, "PRESTO_URL")) {
        const url = env.PRESTO_URL!.trim();
        return { url, local: false, env: [{ name: "PRESTO_URL", value: await reachableFromPods(url, relays) }, ...passed(env, ["PRESTO_CATALOG", "PRESTO_SCHEMA", "PRESTO_HEADER_PREFIX"])] };
      }
      const url = (await startTrino()).url;
      return { url, local: true, env: [{ name: "PRESTO_URL", value: await reachableFromPods(url, relays) }, { name: "PRESTO_CATALOG", value: "tpch" }, { name: "PRESTO_SCHEMA", value: "tiny" }] };
    }
    case "spark": {
      const given = env.SPARK_URL?.trim() || env.SPARK_HISTORY_URL?.trim();
      const url = given || (await startSparkHistory()).url;
      return { url, local: !given, env: [{ name: "SPARK_HISTORY_URL", value: await reachableFromPods(url, relays) }] };
    }
    case "airflow": {
      const given = has(env, "AIRFLOW_URL");
      const a = given ? { url: env.AIRFLOW_URL!.trim(), username: env.AIRFLOW_USERNAME?.trim() ?? "", password: env.AIRFLOW_PASSWORD ?? "" } : await startAirflow();
      if (given && (!a.username || !a.password)) throw new Error("AIRFLOW_URL is set without AIRFLOW_USERNAME and AIRFLOW_PASSWORD: the Airflow server signs in with them");
      return {
        url: a.url,
        local: !given,
        env: [{ name: "AIRFLOW_URL", value: await reachableFromPods(a.url, relays) }, { name: "AIRFLOW_USERNAME", value: a.username }],
        secret: { [AIRFLOW_SECRET.key]: a.password },
      };
    }
  }
}

/**
 * The sample as a workload of this run: the built image by digest, the backend's settings in
 * place of the sample's (a secret reference of the sample, like Airflow's password, stays), and
 * the cluster CA trusted for outbound TLS (the relayed key set); nothing else changed. Both
 * additions are in the spec, so the reviewers approve them with the rest.
 */
export function nodeManifest(sample: McpServerObject, namespace: string, image: string, backendEnv: Backend["env"]): McpServerObject {
  const workload = sample.spec.workload;
  if (!workload) throw new Error(`the ${sample.metadata.name} sample has no workload to run`);
  const added = [...backendEnv, TRUST_CLUSTER_CA];
  const replaced = new Set(added.map((e) => e.name));
  const env = [...(workload.env ?? []).filter((e) => !replaced.has(e.name)), ...added];
  return {
    apiVersion: sample.apiVersion,
    kind: sample.kind,
    metadata: { name: sample.metadata.name, namespace },
    spec: { ...sample.spec, workload: { ...workload, image, env } },
  };
}

/** Starts the relays and backends; returns the operator's flags and what to apply. */
export async function prepareNodeRun(options: NodeRunOptions): Promise<NodeRun> {
  const env = options.env ?? process.env;
  const images = options.names.map((name) => builtImage(name));
  const relays: Relay[] = [];
  const stop = async () => void (await Promise.all(relays.map((r) => r.close())));
  try {
    const jwks = await reachableFromPods(`${options.provider.issuer}/protocol/openid-connect/certs`, relays, { https: true });
    const usage = await reachableFromPods(`http://127.0.0.1:${options.registry.port}`, relays);
    const servers: NodeServer[] = [];
    const prerequisites: object[] = [];
    // One at a time: two cores cannot start Trino, Airflow and a JVM at once quickly.
    for (const [i, name] of options.names.entries()) {
      const backend = await backendFor(name, env, relays);
      servers.push({ name, backend: { url: backend.url, local: backend.local }, manifest: nodeManifest(readSample(name), options.namespace, images[i]!, backend.env) });
      if (backend.secret) prerequisites.push({ apiVersion: "v1", kind: "Secret", metadata: { name: AIRFLOW_SECRET.name, namespace: options.namespace }, type: "Opaque", stringData: backend.secret });
    }
    prerequisites.push({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: `toolfleet-run-${options.namespace}-token-review` },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" },
      subjects: options.names.map((name) => ({ kind: "ServiceAccount", name, namespace: options.namespace })),
    });
    return {
      operatorArgs: [
        `--oidc-issuer=${options.provider.issuer}`,
        `--oidc-jwks-url=${jwks}`,
        `--oidc-audience=${options.mcpAudience}`,
        `--sa-issuer=${options.saIssuer}`,
        `--sa-jwks-url=${API_SERVER_FROM_PODS}/openid/v1/jwks`,
        `--usage-url=${usage}`,
        `--usage-audience=${options.registry.audience}`,
      ],
      servers,
      prerequisites,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

interface ListedServer {
  metadata: { name: string; ownerReferences?: unknown[] };
  spec?: { workload?: unknown };
}

/**
 * Removes what a run in the other mode left in the namespace: its McpServers of these names
 * (with their children, before returning), and, for a node run, the ServiceAccounts a local
 * run made for usage reporting, which would stand where the operator's go.
 */
export async function clearOtherMode(namespace: string, names: readonly string[], onNode: boolean): Promise<string[]> {
  const list = async (kind: string) =>
    (JSON.parse((await kubectl(["get", kind, "-n", namespace, "-o", "json"])).stdout) as { items: ListedServer[] }).items.filter((i) => names.includes(i.metadata.name));
  const stale = (await list("mcpservers")).filter((s) => Boolean(s.spec?.workload) !== onNode).map((s) => s.metadata.name);
  if (stale.length) await kubectl(["delete", "mcpservers", ...stale, "-n", namespace, "--cascade=foreground", "--wait=true", "--timeout=180s"]);
  if (onNode) {
    const accounts = (await list("serviceaccounts")).filter((a) => !a.metadata.ownerReferences?.length).map((a) => a.metadata.name);
    if (accounts.length) await kubectl(["delete", "serviceaccounts", ...accounts, "-n", namespace, "--wait=true"]);
  }
  return stale;
}

/** The cluster IP URL of each server's Service: how this machine reaches a workload (kube-proxy routes it). */
export async function clusterIpUrls(namespace: string, names: readonly string[]): Promise<Map<string, string>> {
  const out = await kubectl(["get", "services", "-n", namespace, "-o", "json"]);
  const items = (JSON.parse(out.stdout) as { items: Array<{ metadata: { name: string }; spec: { clusterIP?: string; ports?: Array<{ port: number }> } }> }).items;
  return new Map(items.filter((s) => names.includes(s.metadata.name) && s.spec.clusterIP).map((s) => [s.metadata.name, `http://${s.spec.clusterIP}:${s.spec.ports?.[0]?.port ?? 8080}/mcp`]));
}
