/** Names, labels and URLs of a server's children: one place, so reconciler, cleanup and tests agree. */
import type { McpServerSpec } from "../crds/index.js";
import type { McpServerObject as McpServer } from "./type.js";

export const FIELD_MANAGER = "toolfleet-operator";
export const FINALIZER = "toolfleet.dev/cleanup";
export const MANAGED_BY = "toolfleet-operator";
export const SERVER_LABEL = "toolfleet.dev/server";
/** Children carry this label, so the operator caches only its own objects. */
export const MANAGED_SELECTOR = `app.kubernetes.io/managed-by=${MANAGED_BY}`;
export const POLICY_HASH_ANNOTATION = "toolfleet.dev/policy-hash";
/**
 * On every child: the hash of what the operator last applied. A resync compares hashes instead
 * of whole objects, so the cache can hold slim children (memory at 5,000 servers) and an
 * unchanged child costs no write. Removing the annotation makes the operator apply again.
 */
export const APPLIED_HASH_ANNOTATION = "toolfleet.dev/applied-hash";
export const POLICY_KEY = "policy.json";
export const POLICY_MOUNT = "/etc/toolfleet";

export const childNames = (serverName: string) => ({
  serviceAccount: serverName,
  deployment: serverName,
  service: serverName,
  policy: `${serverName}-policy`,
  networkPolicy: serverName,
});

export const labelsFor = (server: McpServer) => ({
  "app.kubernetes.io/name": server.metadata.name,
  "app.kubernetes.io/component": "mcp-server",
  "app.kubernetes.io/part-of": "toolfleet",
  "app.kubernetes.io/managed-by": MANAGED_BY,
  [SERVER_LABEL]: server.metadata.name,
});

export const selectorFor = (server: McpServer) => ({ [SERVER_LABEL]: server.metadata.name });

export { registryName } from "../policy/from-mcpserver.js";

/** Where clients reach the server: the Service's cluster DNS URL, or the remote URL. */
export function serverUrl(server: McpServer, spec: McpServerSpec, clusterDomain: string): string {
  if (spec.remote) return spec.remote.url;
  const w = spec.workload!;
  return `http://${server.metadata.name}.${server.metadata.namespace}.svc.${clusterDomain}:${w.port}${w.path}`;
}
