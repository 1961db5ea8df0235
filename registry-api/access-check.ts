/**
 * "May this caller call tool T of server S?": the shared policy module's decision on the
 * policy the operator builds for S, so the registry and the server answer alike.
 */
import { decideServerAccess, decideToolAccess, type DecisionCode } from "../policy/index.js";
import type { CatalogEntry } from "./catalog.js";
import type { Viewer } from "./visibility.js";

export interface AccessAnswer {
  allowed: boolean;
  code: DecisionCode | "not-published";
  reason: string;
  server: string;
  tool?: string;
}

export function checkAccess(entry: CatalogEntry, viewer: Viewer, tool?: string): AccessAnswer {
  const decision = tool === undefined ? decideServerAccess(entry.policy, viewer.caller) : decideToolAccess(entry.policy, viewer.caller, tool);
  const base = { server: entry.registryName, ...(tool === undefined ? {} : { tool }) };
  if (!entry.published) {
    // Reviewers may ask about a server before it is live: the answer is no, with what it would be.
    const phase = entry.status.phase ? ` (${entry.status.phase})` : "";
    return { ...base, allowed: false, code: "not-published", reason: `server is not published${phase}; once published: ${decision.allowed ? "allowed" : "denied"}, ${decision.reason}` };
  }
  return { ...base, allowed: decision.allowed, code: decision.code, reason: decision.reason };
}
