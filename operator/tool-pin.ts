/**
 * Tool definitions pinned per approved revision: the first verification of a revision records
 * the digest of the server's full tool definitions; a later verification of the same revision
 * that lists different definitions is drift (the server changed what reviewers saw without a new
 * revision), named tool by tool. A new approved revision pins afresh.
 */
import type { McpServerStatus } from "../crds/index.js";
import type { ToolPin } from "./status.js";
import type { VerificationResult } from "./tool-verification.js";

type Pinned = NonNullable<McpServerStatus["toolDefinitions"]>;

export function pinTools(previous: Pinned | undefined, approvedHash: string, verification: VerificationResult | undefined, now: string, pinnedTools?: Record<string, string>): ToolPin | undefined {
  const current = previous?.specHash === approvedHash ? previous : undefined;
  const defs = verification?.outcome === "Verified" ? verification.definitions : undefined;
  if (!defs) return current ? { specHash: current.specHash, digest: current.digest, pinnedAt: current.pinnedAt, ...(current.changed ? { changed: current.changed } : {}) } : undefined;
  if (!current) return { specHash: approvedHash, digest: defs.digest, pinnedAt: now };
  if (current.digest === defs.digest) return { specHash: current.specHash, digest: current.digest, pinnedAt: current.pinnedAt };
  const changed = pinnedTools
    ? Object.keys({ ...pinnedTools, ...defs.byTool })
        .filter((name) => pinnedTools[name] !== defs.byTool[name])
        .sort()
        .map((name) => (pinnedTools[name] === undefined ? `${name} (added)` : defs.byTool[name] === undefined ? `${name} (removed)` : `${name} (definition changed)`))
    : [`definitions digest ${current.digest.slice(0, 12)} → ${defs.digest.slice(0, 12)}`];
  return { specHash: current.specHash, digest: current.digest, pinnedAt: current.pinnedAt, changed };
}
