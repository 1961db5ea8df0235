/**
 * Who sees what. A person or service sees the published servers the shared policy lets it use;
 * reviewers and admins see every server, published or not, with its review state.
 */
import { decideServerAccess, type Caller } from "../policy/index.js";
import type { CatalogEntry } from "./catalog.js";

export interface Viewer {
  caller: Caller;
  /** Review areas whose reviewer group the caller is in. */
  reviewerAreas: string[];
  admin: boolean;
  /** Sees unpublished servers too. */
  privileged: boolean;
}

export interface RoleGroups {
  /** Area → group; a value may list several groups separated by commas, like the review gate's ConfigMap. */
  reviewerGroups: Readonly<Record<string, string>>;
  adminGroups: readonly string[];
}

export function viewerOf(caller: Caller, roles: RoleGroups): Viewer {
  if (caller.kind !== "user") return { caller, reviewerAreas: [], admin: false, privileged: false };
  const reviewerAreas = Object.entries(roles.reviewerGroups)
    .filter(([, groups]) => groups.split(",").some((g) => caller.groups.includes(g.trim())))
    .map(([area]) => area);
  const admin = roles.adminGroups.some((g) => caller.groups.includes(g));
  return { caller, reviewerAreas, admin, privileged: admin || reviewerAreas.length > 0 };
}

export function canSee(entry: CatalogEntry, viewer: Viewer): boolean {
  if (viewer.privileged) return true;
  return entry.published && decideServerAccess(entry.policy, viewer.caller).allowed;
}

export type AreaState = "Approved" | "Rejected" | "Pending" | "Stale";

export interface AreaPosture {
  area: string;
  state: AreaState;
  reviewer?: string;
  at?: string;
  comment?: string;
}

/** Each review area's state for the current spec: the operator's verdict where it has one. */
export function reviewPosture(entry: CatalogEntry, areas: readonly string[]): AreaPosture[] {
  const all = [...new Set([...areas, ...Object.keys(entry.spec.review ?? {})])];
  const verdict = entry.status.review;
  return all.map((area) => {
    const decision = entry.spec.review?.[area];
    let state: AreaState;
    if (verdict?.stale?.includes(area)) state = "Stale";
    else if (verdict?.pending?.includes(area)) state = "Pending";
    else if (verdict?.rejected?.includes(area)) state = "Rejected";
    else if (entry.status.specHash && decision?.specHash && decision.specHash !== entry.status.specHash) state = "Stale";
    // In none of the operator's lists: its verdict for this spec stands.
    else state = decision?.decision ?? (verdict?.approved ? "Approved" : "Pending");
    return {
      area,
      state,
      ...(decision?.reviewer ? { reviewer: decision.reviewer } : {}),
      ...(decision?.at ? { at: decision.at } : {}),
      ...(decision?.comment ? { comment: decision.comment } : {}),
    };
  });
}

/** Servers waiting for this reviewer: an area of theirs is pending or stale. */
export function waitingFor(entry: CatalogEntry, viewer: Viewer, areas: readonly string[]): string[] {
  return reviewPosture(entry, areas)
    .filter((p) => viewer.reviewerAreas.includes(p.area) && (p.state === "Pending" || p.state === "Stale"))
    .map((p) => p.area);
}
