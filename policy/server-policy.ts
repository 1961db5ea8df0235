/**
 * The policy file the operator mounts into every server pod (a ConfigMap key, JSON): who may
 * use the server and its tools. The kit enforces it at call time; the registry's access check
 * reads the same shape, so both answer the same question the same way.
 */
import { z } from "zod";
import { AccessSpec, DNS_LABEL, SERVICE_ACCOUNT_REF, ToolSpec } from "../crds/index.js";

export const ServerPolicy = z
  .object({
    server: z
      .object({
        namespace: z.string().min(1).max(63).regex(new RegExp(DNS_LABEL)).describe("The McpServer's namespace."),
        name: z.string().min(1).max(63).regex(new RegExp(DNS_LABEL)).describe("The McpServer's name."),
        registryName: z.string().min(1).max(512).describe("Its registry name, <prefix>.<namespace>/<name>."),
        path: z
          .string()
          .max(128)
          .regex(/^\/[A-Za-z0-9._~/-]*$/)
          .default("/mcp")
          .describe("The HTTP path of the MCP endpoint; spec.workload.path."),
      })
      .strict(),
    access: AccessSpec,
    tools: z.array(ToolSpec).max(128),
    verifier: z
      .string()
      .regex(new RegExp(SERVICE_ACCOUNT_REF))
      .optional()
      .describe("The operator's service account (namespace/name): it may initialize and list tools, and call none."),
  })
  .strict()
  .superRefine((policy, ctx) => {
    const seen = new Set<string>();
    policy.tools.forEach((tool, i) => {
      if (seen.has(tool.name)) {
        ctx.addIssue({ code: "custom", path: ["tools", i, "name"], message: `duplicate tool name "${tool.name}"` });
      }
      seen.add(tool.name);
      (tool.allowedGroups ?? []).forEach((group, j) => {
        if (!policy.access.allowedGroups.includes(group)) {
          ctx.addIssue({
            code: "custom",
            path: ["tools", i, "allowedGroups", j],
            message: `group "${group}" is not among access.allowedGroups; a tool can only narrow the server's groups`,
          });
        }
      });
    });
  });
export type ServerPolicy = z.output<typeof ServerPolicy>;
export type ServerPolicyInput = z.input<typeof ServerPolicy>;

export interface PolicyIssue {
  /** Where in the file, e.g. `tools[1].allowedGroups[0]`; empty for the file as a whole. */
  field: string;
  message: string;
}

/** The policy file cannot be used; `issues` names each bad field. */
export class ServerPolicyError extends Error {
  override readonly name = "ServerPolicyError";
  constructor(readonly issues: PolicyIssue[]) {
    super(`invalid server policy: ${issues.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join("; ")}`);
  }
}

/** Parses and validates the policy file's text. Throws ServerPolicyError naming the bad fields. */
export function parseServerPolicy(text: string): ServerPolicy {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ServerPolicyError([{ field: "", message: `not valid JSON (${(err as Error).message})` }]);
  }
  const parsed = ServerPolicy.safeParse(raw);
  if (!parsed.success) {
    throw new ServerPolicyError(parsed.error.issues.map((i) => ({ field: fieldName(i.path), message: i.message })));
  }
  return parsed.data;
}

function fieldName(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}
