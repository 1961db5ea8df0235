/**
 * What a review vouches for, as one hash: the whole spec but spec.review and the operational
 * knobs spec.workload.replicas and spec.workload.resources (crds/mcpserver.ts says so on every
 * field). Canonical JSON (sorted keys, sets sorted, defaults applied) so that reordering a set or
 * spelling out a default does not make approvals stale, and any real change does. Env keeps its
 * order: later entries can refer to earlier ones.
 */
import { createHash } from "node:crypto";
import type { McpServerSpec, ServedSpec } from "../crds/index.js";
import { canonicalJson } from "../common/canonical-json.js";

const sorted = (xs: readonly string[]) => [...xs].sort();
const byName = <T extends { name: string }>(xs: readonly T[]) => [...xs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

/** The spec without its reviews, sets in canonical order: what a revision records and runs. */
export function servedSpec(spec: McpServerSpec | ServedSpec): ServedSpec {
  const { review: _review, ...rest } = spec as McpServerSpec;
  return {
    ...rest,
    tools: byName(rest.tools).map((t) => ({ ...t, ...(t.allowedGroups ? { allowedGroups: sorted(t.allowedGroups) } : {}) })),
    access: { allowedGroups: sorted(rest.access.allowedGroups), allowedServiceAccounts: sorted(rest.access.allowedServiceAccounts) },
  };
}

/** The reviewed part of a spec; `spec` has its defaults applied (parsed with McpServerSpec). */
export function reviewedContent(spec: McpServerSpec | ServedSpec): Omit<ServedSpec, "workload"> & { workload?: Omit<NonNullable<ServedSpec["workload"]>, "replicas" | "resources"> } {
  const s = servedSpec(spec);
  if (!s.workload) return s;
  const { replicas: _replicas, resources: _resources, ...workload } = s.workload;
  return { ...s, workload };
}

export function specHash(spec: McpServerSpec | ServedSpec): string {
  return createHash("sha256").update(canonicalJson(reviewedContent(spec))).digest("hex");
}
