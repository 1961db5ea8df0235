/**
 * What test suites use of the local control plane: clients as the admin or as any user, the
 * control plane's kubectl, and a fresh namespace per suite. jest's global setup has started
 * the control plane and installed the API before any suite runs.
 */
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { adminCredentials, pki, readState, type ClusterState } from "./controlplane.js";
import { kubeConfigFor } from "./kubeconfig.js";
import { clientCredentials } from "./pki.js";
import { kubectl, type KubectlOptions } from "./kubectl.js";

export { kubectl, type KubectlOptions } from "./kubectl.js";
export { restartComponent } from "./controlplane.js";
export { FAKE_NODE } from "./install.js";

export function cluster(): ClusterState {
  const state = readState();
  if (!state) throw new Error("the local control plane is not running: jest's global setup starts it (or run `make cluster`)");
  return state;
}

export function adminConfig(): KubeConfig {
  return kubeConfigFor(cluster().server, pki().caCert, adminCredentials());
}

/** A client configuration authenticated as `user` in `groups` by a certificate of the cluster CA. */
export function userConfig(user: string, groups: readonly string[] = []): KubeConfig {
  return kubeConfigFor(cluster().server, pki().caCert, clientCredentials(pki(), user, groups));
}

/** The cluster CA and the admin's client certificate (PEM), for clients that speak TLS themselves. */
export function clusterTls(): { ca: string; admin: { cert: string; key: string } } {
  const admin = adminCredentials();
  return { ca: readFileSync(pki().caCert, "utf8"), admin: { cert: readFileSync(admin.cert, "utf8"), key: readFileSync(admin.key, "utf8") } };
}

/** A service-account token minted by the API server's TokenRequest API. */
export async function serviceAccountToken(namespace: string, name: string, audiences: string[], expirationSeconds = 600): Promise<string> {
  const core = adminConfig().makeApiClient(CoreV1Api);
  try {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  } catch (err) {
    if ((err as { code?: number }).code !== 409) throw err;
  }
  const res = await core.createNamespacedServiceAccountToken({ name, namespace, body: { spec: { audiences, expirationSeconds } } });
  return res.status?.token ?? "";
}

/** Creates a namespace named `<prefix>-<random>` and returns its name. */
export async function testNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`.slice(0, 63);
  await adminConfig().makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name, labels: { "toolfleet.dev/test": "true" } } } });
  return name;
}

/**
 * Deletes a namespace; with `wait`, returns once it and everything in it is gone (benchmarks:
 * the next one must not share the control plane with a cascade of deletions).
 */
export async function deleteNamespace(name: string, opts: { wait?: boolean } = {}): Promise<void> {
  const wait = opts.wait ? ["--wait=true", "--timeout=900s"] : ["--wait=false"];
  await kubectl(["delete", "namespace", name, ...wait, "--ignore-not-found"], { allowFailure: !opts.wait });
}

export function customObjects(kc: KubeConfig = adminConfig()): CustomObjectsApi {
  return kc.makeApiClient(CustomObjectsApi);
}

/** kubectl as a user; a convenience for the many "as this person" tests. */
export function kubectlAs(user: string, groups: string[], args: string[], opts: Omit<KubectlOptions, "user" | "groups"> = {}) {
  return kubectl(args, { ...opts, user, groups });
}
