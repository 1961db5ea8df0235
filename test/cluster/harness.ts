/**
 * What test suites use of the local control plane: clients as the admin or as any user, the
 * control plane's kubectl, and a fresh namespace per suite. jest's global setup has started
 * the control plane and installed the API before any suite runs.
 */
import { CoreV1Api, CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { randomBytes } from "node:crypto";
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

/** Creates a namespace named `<prefix>-<random>` and returns its name. */
export async function testNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`.slice(0, 63);
  await adminConfig().makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name, labels: { "toolfleet.dev/test": "true" } } } });
  return name;
}

export async function deleteNamespace(name: string): Promise<void> {
  await kubectl(["delete", "namespace", name, "--wait=false", "--ignore-not-found"], { allowFailure: true });
}

export function customObjects(kc: KubeConfig = adminConfig()): CustomObjectsApi {
  return kc.makeApiClient(CustomObjectsApi);
}

/** kubectl as a user; a convenience for the many "as this person" tests. */
export function kubectlAs(user: string, groups: string[], args: string[], opts: Omit<KubectlOptions, "user" | "groups"> = {}) {
  return kubectl(args, { ...opts, user, groups });
}
