/**
 * Where the API server is and how to authenticate, from a kubeconfig file (KUBECONFIG or
 * ~/.kube/config) or, in a pod, from the mounted service account. Loading
 * @kubernetes/client-node only for this costs ~85 MB of RSS (its generated models), so the
 * operator reads the few fields it needs itself. Any object with the same two methods — a
 * client-node KubeConfig included — works with KubeClient.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import type { RequestOptions } from "node:https";
import { parse } from "yaml";

export interface ConnectionConfig {
  getCurrentCluster(): { server: string } | null;
  /** Sets ca/cert/key/headers on the options; called again to pick up rotated credentials. */
  applyToHTTPSOptions(opts: RequestOptions): Promise<void>;
}

export class KubeconfigError extends Error {
  override readonly name = "KubeconfigError";
}

interface Named<T> {
  name: string;
  [k: string]: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}

const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

class FileConnection implements ConnectionConfig {
  constructor(
    private readonly server: string,
    private readonly read: () => { ca?: Buffer; cert?: Buffer; key?: Buffer; token?: string; insecure?: boolean },
  ) {}
  getCurrentCluster() {
    return { server: this.server };
  }
  async applyToHTTPSOptions(opts: RequestOptions): Promise<void> {
    const c = this.read();
    if (c.ca) opts.ca = c.ca;
    if (c.cert) opts.cert = c.cert;
    if (c.key) opts.key = c.key;
    if (c.insecure) opts.rejectUnauthorized = false;
    if (c.token) opts.headers = { ...(opts.headers ?? {}), Authorization: `Bearer ${c.token}` };
  }
}

/** The pod's own service account, with its token re-read (the kubelet rotates it). */
function inCluster(): ConnectionConfig | undefined {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT;
  if (!host || !port || !existsSync(join(SA_DIR, "token"))) return undefined;
  const server = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return new FileConnection(server, () => ({ ca: readFileSync(join(SA_DIR, "ca.crt")), token: readFileSync(join(SA_DIR, "token"), "utf8").trim() }));
}

export function loadKubeconfigFile(path: string): ConnectionConfig {
  let doc: Record<string, unknown>;
  try {
    doc = parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (err) {
    throw new KubeconfigError(`cannot read the kubeconfig ${path}: ${(err as Error).message}`);
  }
  const base = dirname(path);
  const file = (p: string) => readFileSync(isAbsolute(p) ? p : join(base, p));
  const pick = <T>(list: unknown, name: string | undefined, what: string): T => {
    const found = ((list as Named<T>[] | undefined) ?? []).find((x) => x.name === name);
    const value = found?.[what] as T | undefined;
    if (!value) throw new KubeconfigError(`${path}: no ${what} named "${name ?? ""}" (check current-context)`);
    return value;
  };
  const contextName = doc["current-context"] as string | undefined;
  const context = pick<{ cluster: string; user: string }>(doc.contexts, contextName, "context");
  const cluster = pick<Record<string, string | boolean>>(doc.clusters, context.cluster, "cluster");
  const user = pick<Record<string, unknown>>(doc.users, context.user, "user");
  if (user.exec || user["auth-provider"]) {
    throw new KubeconfigError(`${path}: user "${context.user}" authenticates with an exec or auth-provider plugin, which the operator does not run; use a client certificate or a token (in a pod, its service account)`);
  }
  const b64 = (v: unknown) => (typeof v === "string" ? Buffer.from(v, "base64") : undefined);
  return new FileConnection(String(cluster.server), () => ({
    ca: b64(cluster["certificate-authority-data"]) ?? (typeof cluster["certificate-authority"] === "string" ? file(cluster["certificate-authority"]) : undefined),
    cert: b64(user["client-certificate-data"]) ?? (typeof user["client-certificate"] === "string" ? file(user["client-certificate"]) : undefined),
    key: b64(user["client-key-data"]) ?? (typeof user["client-key"] === "string" ? file(user["client-key"]) : undefined),
    token: typeof user.token === "string" ? user.token : typeof user.tokenFile === "string" ? file(user.tokenFile).toString("utf8").trim() : undefined,
    insecure: cluster["insecure-skip-tls-verify"] === true,
  }));
}

/** KUBECONFIG (its first file), else ~/.kube/config, else the pod's service account. */
export function loadConnection(env: NodeJS.ProcessEnv = process.env): ConnectionConfig {
  const fromEnv = env.KUBECONFIG?.split(":").find(Boolean);
  if (fromEnv) return loadKubeconfigFile(fromEnv);
  const home = join(homedir(), ".kube", "config");
  if (existsSync(home)) return loadKubeconfigFile(home);
  const pod = inCluster();
  if (pod) return pod;
  throw new KubeconfigError("no API server configured: set KUBECONFIG, create ~/.kube/config, or run in a pod with a service account");
}
