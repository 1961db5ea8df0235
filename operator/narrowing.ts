/**
 * A change that only narrows access needs no review: it takes nothing from what reviewers saw
 * but permissions. The served spec is the approved revision with every narrowing of the current
 * spec applied to it (fewer groups, service accounts or tools; a tool made sensitive, no longer
 * callable by services, or given narrower groups) and nothing else of the current spec, so a
 * widening or any other change in the same edit still waits for review.
 */
import type { McpServerSpec, ServedSpec, ToolSpec } from "../crds/index.js";

const intersect = (a: readonly string[], b: readonly string[]) => a.filter((x) => b.includes(x));

/** A tool's callers narrowed by the current declaration of the same tool. */
function narrowTool(approved: ToolSpec, current: ToolSpec, serverGroups: readonly string[]): ToolSpec {
  const sensitive = approved.sensitive || current.sensitive;
  // Unset means "everyone the server admits": narrowing from there is the current list.
  const groups =
    approved.allowedGroups === undefined && current.allowedGroups === undefined
      ? undefined
      : intersect(approved.allowedGroups ?? serverGroups, current.allowedGroups ?? serverGroups);
  const narrowed: ToolSpec = {
    ...approved,
    sensitive,
    // Not read-only means services may not call it: the same or fewer callers.
    readOnly: approved.readOnly && current.readOnly,
    allowServiceAccounts: approved.allowServiceAccounts && current.allowServiceAccounts && !sensitive,
  };
  if (groups === undefined) delete narrowed.allowedGroups;
  else narrowed.allowedGroups = intersect(groups, serverGroups);
  return narrowed;
}

/**
 * The approved spec with the current spec's narrowings applied, and its operational knobs
 * (replicas, resources). Undefined if nothing would be left to serve (every tool removed).
 */
export function narrowedSpec(approved: ServedSpec, current: McpServerSpec): ServedSpec | undefined {
  const allowedGroups = intersect(approved.access.allowedGroups, current.access.allowedGroups);
  const allowedServiceAccounts = intersect(approved.access.allowedServiceAccounts, current.access.allowedServiceAccounts);
  const currentTools = new Map(current.tools.map((t) => [t.name, t]));
  const tools = approved.tools.flatMap((t) => {
    const c = currentTools.get(t.name);
    return c ? [narrowTool(t, c, allowedGroups)] : [];
  });
  if (tools.length === 0) return undefined;
  const served: ServedSpec = { ...approved, access: { allowedGroups, allowedServiceAccounts }, tools };
  if (approved.workload && current.workload) {
    const { replicas, resources } = current.workload;
    served.workload = { ...approved.workload, replicas };
    if (resources) served.workload.resources = resources;
    else delete served.workload.resources;
  }
  return served;
}
