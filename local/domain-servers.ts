/**
 * The three domain servers on this machine, for `make run` and the tests: each in this process
 * on a free loopback port, against the real backends of test/backends (started or reused) or
 * against backends named by the environment, with the policy file written from its McpServer.
 *
 * Who writes the policy file: in a cluster, the operator (ConfigMap `<name>-policy`, key
 * `policy.json`, mounted at /etc/toolfleet/policy.json). A remote McpServer gets no ConfigMap,
 * so here `startDomainServers` writes `<policyDir>/<name>.json` from the McpServer it returns
 * (the sample in crds/samples, as `remote: { url }`), with the same function the operator uses
 * (policy/from-mcpserver.ts `serverPolicy`). Call `updatePolicy` when that McpServer changes; the
 * kit reloads the file within seconds.
 */
import { repoRoot } from "./cluster/paths.js";
import { DEFAULT_REGISTRY_PREFIX, DEFAULT_VERIFIER_SERVICE_ACCOUNT as DEFAULT_VERIFIER } from "../mcpserver/index.js";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import { McpServer, type McpServer as McpServerObject } from "../crds/index.js";
import { serverPolicy } from "../policy/index.js";
import type { ServerPolicy } from "../policy/index.js";
import { freePort, startAirflow, startSparkHistory, startTrino } from "./backends/harness.js";
import { createAirflowServer } from "../servers/airflow/server.js";
import { airflowConfigFromEnv, type AirflowServerConfig } from "../servers/airflow/config.js";
import type { AuditSink, DomainServer, Env, KitOptions } from "../servers/kit/index.js";
import { createPrestoServer } from "../servers/presto/server.js";
import { prestoConfigFromEnv, type PrestoServerConfig } from "../servers/presto/config.js";
import { createSparkServer } from "../servers/spark/server.js";
import { sparkConfigFromEnv, type SparkServerConfig } from "../servers/spark/config.js";
import type { UsageHook } from "../servers/kit/usage/call.js";
import type { Logger } from "../common/log.js";

export const DOMAIN_SERVERS = ["presto", "spark", "airflow"] as const;
export type DomainServerName = (typeof DOMAIN_SERVERS)[number];

/** The operator's default verifier identity, which may list tools and call none. */
export { DEFAULT_VERIFIER };

// crds/samples of the repository, also when running compiled from dist/.
const samplesDir = () => join(repoRoot(), "crds", "samples");

/** The McpServer sample of a domain server (crds/samples/<name>.yaml), validated and defaulted. */
export function readSample(name: DomainServerName): McpServerObject {
  return McpServer.parse(parse(readFileSync(join(samplesDir(), `${name}.yaml`), "utf8")));
}

/** The sample registered as running elsewhere: `workload` replaced by `remote: { url }`, nothing else changed. */
export function remoteManifest(sample: McpServerObject, url: string, namespace = sample.metadata.namespace): McpServerObject {
  const { workload: _deployedInCluster, ...spec } = sample.spec;
  return {
    apiVersion: sample.apiVersion,
    kind: sample.kind,
    metadata: { name: sample.metadata.name, namespace },
    spec: { ...spec, remote: { url } },
  };
}

/** The policy file a kit server reads, from its McpServer: the operator's own derivation. */
export function policyFromMcpServer(server: McpServerObject, options: { registryPrefix?: string; verifier?: string } = {}): ServerPolicy {
  return serverPolicy(server.metadata, server.spec, {
    registryPrefix: options.registryPrefix ?? DEFAULT_REGISTRY_PREFIX,
    verifierServiceAccount: options.verifier ?? DEFAULT_VERIFIER,
  });
}

/** Written whole and renamed into place, so the kit never reads half a file. */
export function writePolicyFile(path: string, policy: ServerPolicy): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.tmp`, JSON.stringify(policy, null, 2));
  renameSync(`${path}.tmp`, path);
}

export interface StartDomainServersOptions {
  /** Where each server's policy file is written, as `<policyDir>/<name>.json`. */
  policyDir: string;
  /** Who may call: people's tokens (OIDC issuer, JWKS) and service-account tokens (the cluster's issuer and keys, for the operator's verifier). */
  auth: KitOptions["auth"];
  /** Default: all three. */
  names?: readonly DomainServerName[];
  /**
   * Backends by environment: PRESTO_URL, SPARK_URL (or SPARK_HISTORY_URL), AIRFLOW_URL and
   * their credentials (see each server's config.ts). A server whose URL is unset gets the local
   * backend of test/backends (Trino, the Spark history server, Airflow), started or reused.
   */
  env?: Env;
  /** The namespace the McpServers are registered in (default: the samples', data-platform). */
  namespace?: string;
  verifier?: string;
  registryPrefix?: string;
  logger?: Logger;
  audit?: AuditSink;
  /** Usage recording for each server (local/usage-reporting.ts); unset: none. */
  usage?: (name: DomainServerName) => UsageHook;
}

export interface RunningDomainServer {
  name: DomainServerName;
  /** The MCP endpoint, http://127.0.0.1:<port>/mcp. */
  url: string;
  /** Where the backend is, and whether it is one of this machine's test backends. */
  backend: { url: string; local: boolean };
  /** The McpServer to apply for it: the sample as `remote: { url }`. */
  manifest: McpServerObject;
  policyFile: string;
  /** Rewrites the policy file from a changed McpServer (e.g. as read back from the cluster). */
  updatePolicy(server: McpServerObject): void;
  /** Stops the server; a local backend keeps running for the next run (`make backends-down`). */
  stop(): Promise<void>;
}

interface Backend {
  server: DomainServer;
  url: string;
  local: boolean;
}

const has = (env: Env, ...names: string[]) => names.some((n) => env[n]?.trim());

async function backendFor(name: DomainServerName, env: Env): Promise<Backend> {
  switch (name) {
    case "presto": {
      const config: PrestoServerConfig = has(env, "PRESTO_URL")
        ? prestoConfigFromEnv(env)
        : prestoConfigFromEnv({ PRESTO_URL: (await startTrino()).url, PRESTO_CATALOG: "tpch", PRESTO_SCHEMA: "tiny" });
      return { server: createPrestoServer(config), url: config.client.url, local: !has(env, "PRESTO_URL") };
    }
    case "spark": {
      const config: SparkServerConfig = has(env, "SPARK_URL", "SPARK_HISTORY_URL") ? sparkConfigFromEnv(env) : sparkConfigFromEnv({ SPARK_URL: (await startSparkHistory()).url });
      return { server: createSparkServer(config), url: config.url, local: !has(env, "SPARK_URL", "SPARK_HISTORY_URL") };
    }
    case "airflow": {
      let config: AirflowServerConfig;
      if (has(env, "AIRFLOW_URL")) config = airflowConfigFromEnv(env);
      else {
        const a = await startAirflow();
        config = airflowConfigFromEnv({ AIRFLOW_URL: a.url, AIRFLOW_USERNAME: a.username, AIRFLOW_PASSWORD: a.password });
      }
      return { server: createAirflowServer(config), url: config.url, local: !has(env, "AIRFLOW_URL") };
    }
  }
}

export async function startDomainServers(options: StartDomainServersOptions): Promise<RunningDomainServer[]> {
  const env = options.env ?? process.env;
  const names = options.names ?? DOMAIN_SERVERS;
  // Backends one at a time: two cores cannot start Trino, Airflow and a JVM at once quickly.
  const backends: Backend[] = [];
  for (const name of names) backends.push(await backendFor(name, env));
  const started: RunningDomainServer[] = [];
  try {
    for (const [i, name] of names.entries()) started.push(await startOne(name, backends[i]!, options));
  } catch (err) {
    await Promise.all(started.map((s) => s.stop()));
    throw err;
  }
  return started;
}

async function startOne(name: DomainServerName, backend: Backend, options: StartDomainServersOptions): Promise<RunningDomainServer> {
  // The port is chosen before the start: the URL is the tokens' audience and the McpServer's.
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const url = `${publicUrl}/mcp`;
  const manifest = remoteManifest(readSample(name), url, options.namespace);
  const policyFile = join(options.policyDir, `${name}.json`);
  const policyOptions = { ...(options.registryPrefix ? { registryPrefix: options.registryPrefix } : {}), ...(options.verifier ? { verifier: options.verifier } : {}) };
  writePolicyFile(policyFile, policyFromMcpServer(manifest, policyOptions));
  const running = await backend.server.start({
    policyFile,
    publicUrl,
    port,
    host: "127.0.0.1",
    auth: options.auth,
    processMetrics: false,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.audit ? { audit: options.audit } : {}),
    ...(options.usage ? { usage: options.usage(name) } : {}),
  });
  return {
    name,
    url,
    backend: { url: backend.url, local: backend.local },
    manifest,
    policyFile,
    updatePolicy: (server) => writePolicyFile(policyFile, policyFromMcpServer(server, policyOptions)),
    stop: () => running.stop(),
  };
}
