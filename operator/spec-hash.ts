/**
 * What a review vouches for, as one hash: the image (or remote URL), the tools and the access.
 * Canonical JSON (sorted keys, sets sorted, defaults applied) so that reordering a list or
 * spelling out a default does not make approvals stale, and any real change does.
 */
import { createHash } from "node:crypto";
import type { McpServerSpec } from "../crds/index.js";

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
}

const sorted = (xs: readonly string[] | undefined) => (xs ? [...xs].sort() : undefined);

/** The reviewed part of a spec; `spec` has its defaults applied (parsed with McpServerSpec). */
export function reviewedContent(spec: McpServerSpec) {
  return {
    source: spec.workload ? { image: spec.workload.image } : { remoteUrl: spec.remote?.url },
    tools: [...spec.tools]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((t) => ({ ...t, allowedGroups: sorted(t.allowedGroups) })),
    access: {
      allowedGroups: sorted(spec.access.allowedGroups),
      allowedServiceAccounts: sorted(spec.access.allowedServiceAccounts),
    },
  };
}

export function specHash(spec: McpServerSpec): string {
  return createHash("sha256").update(canonicalJson(reviewedContent(spec))).digest("hex");
}
