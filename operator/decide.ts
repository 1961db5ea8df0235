/**
 * The reconcile decision, as a pure function of what was observed: which approved revision
 * serves (and whether a new one is recorded), what runs and with how many replicas, which
 * children to create, replace or delete, and what is in conflict. The reconciler observes
 * (caches), calls this, then acts; every rule here is a table test (operator/test/decide.test.ts).
 */
import type { McpServerSpec, ServedSpec } from "../crds/index.js";
import { controllerOf } from "../runtime/index.js";
import { McpServerType, type McpServerObject } from "../mcpserver/type.js";
import { APPLIED_HASH_ANNOTATION } from "../mcpserver/names.js";
import { desiredChildren, type ChildrenConfig, type DesiredChild, type SlimChild, CHILDREN, type ChildKind } from "./children.js";
import { narrowedSpec } from "./narrowing.js";
import type { ReviewVerdict } from "./review-gate.js";
import { latestApproved, revisionName, REVISIONS_KEPT, type ApprovedRevision, type ControllerRevision } from "./revisions.js";
import { specChanges, type FieldChange } from "./spec-diff.js";
import { servedSpec, specHash } from "./spec-hash.js";

export interface Observation {
  object: McpServerObject;
  /** The current spec, parsed (defaults applied). */
  spec: McpServerSpec;
  specHash: string;
  verdict: ReviewVerdict;
  /** This server's ControllerRevisions, oldest first. */
  revisions: readonly ControllerRevision[];
  /** The cached object of a child kind with the child's name, if any. */
  live: (kind: ChildKind, name: string) => SlimChild | undefined;
  /** The view hash the API server gave back when the operator last wrote `uid` with `appliedHash`. */
  writtenView: (uid: string, appliedHash: string) => string | undefined;
  children: ChildrenConfig;
}

export type ChildAction = { child: DesiredChild; action: "create" | "replace"; live?: SlimChild; reason: string };

export interface Served {
  revision: string;
  specHash: string;
  narrowed: boolean;
  spec: ServedSpec;
}

export interface Plan {
  /** A new approved revision to record (or an older one to make the latest again). */
  record?: { name: string; revision: number; specHash: string; spec: ServedSpec; existing: boolean };
  /** Revisions beyond the ten kept. */
  prune: ControllerRevision[];
  approved?: ApprovedRevision;
  /** What runs and what the registry serves; undefined: nothing (never approved, rejected). */
  served?: Served;
  /** A reviewer rejected the current spec or the approved revision. */
  rejected: boolean;
  /** The reviewed fields that differ from the approved revision, while a change waits for review. */
  pending?: FieldChange[];
  replicas: number;
  /** Objects in the way of a child's name that this server does not control. */
  conflicts: string[];
  writes: ChildAction[];
  /** Children of this server to delete (the served spec runs nothing). */
  deletes: Array<{ kind: ChildKind; name: string; uid: string }>;
  /** A child is being deleted: come back once it is gone. */
  waiting: boolean;
}

export function decide(o: Observation): Plan {
  const { spec, verdict } = o;
  const uid = o.object.metadata.uid;
  const name = o.object.metadata.name;
  let approved = latestApproved(o.revisions);

  let record: Plan["record"];
  if (verdict.approved && approved?.specHash !== o.specHash) {
    const existing = o.revisions.find((r) => r.data?.specHash === o.specHash);
    const revision = (o.revisions.at(-1)?.revision ?? 0) + 1;
    const spec0 = servedSpec(spec);
    record = { name: existing?.metadata.name ?? revisionName(name, o.specHash), revision, specHash: o.specHash, spec: spec0, existing: existing !== undefined };
    approved = { name: record.name, revision, specHash: o.specHash, spec: spec0 };
  }
  // The ten newest are kept, counting the one being recorded; never the served one.
  const renumbered = o.revisions.map((r) => (r.metadata.name === record?.name ? { ...r, revision: record.revision } : r));
  const count = renumbered.length + (record && !record.existing ? 1 : 0);
  const prune = [...renumbered]
    .sort((a, b) => a.revision - b.revision)
    .slice(0, Math.max(0, count - REVISIONS_KEPT))
    .filter((r) => r.metadata.name !== record?.name && r.metadata.name !== approved?.name);

  const rejectedAreas = Object.values(spec.review ?? {}).filter((e) => e.decision === "Rejected" && (e.specHash === o.specHash || e.specHash === approved?.specHash));
  const rejected = verdict.rejected.length > 0 || rejectedAreas.length > 0;

  let served: Served | undefined;
  let pending: FieldChange[] | undefined;
  if (approved && !rejected) {
    if (approved.specHash === o.specHash) {
      served = { revision: approved.name, specHash: o.specHash, narrowed: false, spec: servedSpec(spec) };
    } else {
      pending = specChanges(approved.spec, spec);
      const narrowed = narrowedSpec(approved.spec, spec);
      if (narrowed) {
        const hash = specHash(narrowed);
        served = { revision: approved.name, specHash: hash, narrowed: hash !== approved.specHash, spec: servedSpec(narrowed) };
      }
    }
  } else if (approved && approved.specHash !== o.specHash) pending = specChanges(approved.spec, spec);

  // What the children are built from: the served spec; after a rejection, the approved revision at 0 replicas.
  const runSpec = served?.spec ?? (rejected ? approved?.spec : undefined);
  const replicas = served?.spec.workload ? served.spec.workload.replicas : 0;
  const desired = runSpec?.workload && uid ? desiredChildren(o.object, runSpec, replicas, o.children) : [];

  const conflicts: string[] = [];
  const writes: ChildAction[] = [];
  let waiting = false;
  for (const child of desired) {
    const live = o.live(child.kind, child.object.metadata.name);
    const what = `${child.type.kind} ${o.object.metadata.namespace}/${child.object.metadata.name}`;
    if (!live) {
      writes.push({ child, action: "create", reason: "missing" });
      continue;
    }
    if (controllerOf(live, McpServerType)?.uid !== uid) {
      conflicts.push(what);
      continue;
    }
    if (live.metadata.deletionTimestamp) {
      waiting = true;
      continue;
    }
    if (live.metadata.annotations?.[APPLIED_HASH_ANNOTATION] !== child.appliedHash) {
      writes.push({ child, action: "replace", live, reason: "changed" });
      continue;
    }
    const expected = (live.metadata.uid && o.writtenView(live.metadata.uid, child.appliedHash)) || child.viewHash;
    if (live.viewHash !== expected) writes.push({ child, action: "replace", live, reason: "drifted" });
  }

  // Nothing to run: remove what this server controls, and only that.
  const deletes: Plan["deletes"] = [];
  if (!runSpec?.workload && uid) {
    for (const kind of CHILDREN) {
      const childName = kind.name(name);
      const live = o.live(kind, childName);
      if (live && !live.metadata.deletionTimestamp && live.metadata.uid && controllerOf(live, McpServerType)?.uid === uid) deletes.push({ kind, name: childName, uid: live.metadata.uid });
    }
  }

  return {
    ...(record ? { record } : {}),
    prune,
    ...(approved ? { approved } : {}),
    ...(served ? { served } : {}),
    rejected,
    ...(pending && pending.length > 0 ? { pending } : {}),
    replicas,
    conflicts,
    // A conflict stops every write: nothing of this server is deployed beside another's object.
    writes: conflicts.length > 0 ? [] : writes,
    deletes,
    waiting,
  };
}
