/**
 * The one authorization decision of Toolfleet: "may this caller use server S / call tool T?".
 * Pure functions of the server's policy and the caller, shared by the server kit (at call
 * time) and the registry's access check (ahead of time), so the two can never disagree.
 */
import type { ToolSpec } from "../crds/index.js";
import type { ServerPolicy } from "./server-policy.js";

/** Who is calling, as established by authentication. */
export type Caller =
  | { kind: "user"; subject: string; groups: readonly string[] }
  | { kind: "serviceAccount"; namespace: string; name: string };

/**
 * A stable, machine-readable code for each outcome; `reason` is the same in words. Both are
 * part of the API: clients show the reason, dashboards group by the code.
 */
export type DecisionCode =
  | "group-allowed"
  | "no-allowed-group"
  | "tool-group-allowed"
  | "not-in-tool-groups"
  | "service-account-allowed"
  | "service-account-not-allowed"
  | "sensitive-needs-person"
  | "not-read-only"
  | "verifier-lists-only"
  | "unknown-tool";

export interface Decision {
  allowed: boolean;
  code: DecisionCode;
  reason: string;
}

/** `namespace/name` for a service account, the caller's subject for a person. */
export function callerName(caller: Caller): string {
  return caller.kind === "user" ? caller.subject : `${caller.namespace}/${caller.name}`;
}

/** The operator's own identity: it may initialize and list tools, and call none. */
export function isVerifier(policy: ServerPolicy, caller: Caller): boolean {
  return caller.kind === "serviceAccount" && policy.verifier === callerName(caller);
}

function allow(code: DecisionCode, reason: string): Decision {
  return { allowed: true, code, reason };
}
function deny(code: DecisionCode, reason: string): Decision {
  return { allowed: false, code, reason };
}
const list = (xs: readonly string[]) => (xs.length ? xs.join(", ") : "none");

/** May the caller connect to the server at all (initialize, list tools)? */
export function decideServerAccess(policy: ServerPolicy, caller: Caller): Decision {
  if (caller.kind === "user") {
    const group = policy.access.allowedGroups.find((g) => caller.groups.includes(g));
    return group !== undefined
      ? allow("group-allowed", `member of group ${group}, which may use this server`)
      : deny("no-allowed-group", `not a member of any group allowed on this server (allowed: ${list(policy.access.allowedGroups)})`);
  }
  const name = callerName(caller);
  if (isVerifier(policy, caller)) {
    return allow("verifier-lists-only", `service account ${name} is the operator's verifier: it may list tools and call none`);
  }
  return policy.access.allowedServiceAccounts.includes(name)
    ? allow("service-account-allowed", `service account ${name} is allowed on this server`)
    : deny("service-account-not-allowed", `service account ${name} is not among this server's allowed service accounts`);
}

/** May the caller call this tool? An unknown tool is always denied. */
export function decideToolAccess(policy: ServerPolicy, caller: Caller, toolName: string): Decision {
  const tool = policy.tools.find((t) => t.name === toolName);
  if (!tool) return deny("unknown-tool", `tool ${toolName} is not declared in this server's policy`);
  if (isVerifier(policy, caller)) {
    return deny("verifier-lists-only", `service account ${callerName(caller)} is the operator's verifier: it may list tools and call none`);
  }
  const server = decideServerAccess(policy, caller);
  if (!server.allowed) return server;
  return caller.kind === "user" ? decideUserTool(tool, caller.groups, server) : decideServiceTool(tool, callerName(caller), server);
}

function decideUserTool(tool: ToolSpec, groups: readonly string[], server: Decision): Decision {
  if (tool.allowedGroups === undefined) return server;
  const group = tool.allowedGroups.find((g) => groups.includes(g));
  return group !== undefined
    ? allow("tool-group-allowed", `member of group ${group}, which may call tool ${tool.name}`)
    : deny("not-in-tool-groups", `tool ${tool.name} is limited to groups ${list(tool.allowedGroups)}, and the caller is in none of them`);
}

function decideServiceTool(tool: ToolSpec, name: string, server: Decision): Decision {
  if (tool.sensitive) {
    return deny("sensitive-needs-person", `tool ${tool.name} is sensitive: a person must confirm each call, so service account ${name} cannot call it`);
  }
  if (!tool.readOnly && !tool.allowServiceAccounts) {
    return deny("not-read-only", `tool ${tool.name} is not read-only and does not admit service accounts, so service account ${name} cannot call it`);
  }
  return server;
}

/**
 * The tools the caller may see in tools/list: those it may call, and for the operator's
 * verifier every declared tool (it checks the server lists exactly what was declared).
 */
export function visibleTools(policy: ServerPolicy, caller: Caller): ToolSpec[] {
  if (isVerifier(policy, caller)) return [...policy.tools];
  return policy.tools.filter((t) => decideToolAccess(policy, caller, t.name).allowed);
}
