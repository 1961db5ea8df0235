/** Kubeconfig files and client-node configurations for the local control plane. */
import { KubeConfig } from "@kubernetes/client-node";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { stringify } from "yaml";
import type { ClientCredentials } from "./pki.js";

const b64 = (path: string) => readFileSync(path).toString("base64");

export function kubeconfigYaml(server: string, caCert: string, client: ClientCredentials, name = "toolfleet-local"): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server, "certificate-authority-data": b64(caCert) } }],
    users: [{ name, user: { "client-certificate-data": b64(client.cert), "client-key-data": b64(client.key) } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    "current-context": name,
  });
}

export function writeKubeconfig(path: string, server: string, caCert: string, client: ClientCredentials): void {
  writeFileSync(`${path}.tmp`, kubeconfigYaml(server, caCert, client), { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

export function kubeConfigFor(server: string, caCert: string, client: ClientCredentials): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(kubeconfigYaml(server, caCert, client));
  return kc;
}
