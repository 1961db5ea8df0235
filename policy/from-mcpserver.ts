/**
 * The policy of an McpServer: what the operator mounts into its pods, what the registry's
 * access check decides on, and what `make run` writes for servers it runs itself. One
 * derivation, so the three can never disagree.
 */
import type { McpServerSpec } from "../crds/index.js";
import { ServerPolicy, type ServerPolicyInput } from "./server-policy.js";

/** A server's name in the registry: `<prefix>.<namespace>/<name>` (reverse-DNS, one slash). */
export const registryName = (prefix: string, namespace: string, name: string) => `${prefix}.${namespace}/${name}`;

export interface PolicyNaming {
  registryPrefix: string;
  /** The operator's service account (namespace/name), which may list tools and call none. */
  verifierServiceAccount?: string;
}

export function serverPolicy(server: { namespace: string; name: string }, spec: McpServerSpec, naming: PolicyNaming): ServerPolicy {
  const input: ServerPolicyInput = {
    server: {
      namespace: server.namespace,
      name: server.name,
      registryName: registryName(naming.registryPrefix, server.namespace, server.name),
      path: spec.workload?.path ?? "/mcp",
    },
    access: spec.access,
    tools: spec.tools,
    ...(naming.verifierServiceAccount ? { verifier: naming.verifierServiceAccount } : {}),
  };
  return ServerPolicy.parse(input);
}
