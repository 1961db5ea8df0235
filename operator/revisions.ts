/**
 * Approved revisions: each spec every required area approved is recorded once, as an immutable
 * ControllerRevision owned by its McpServer (as a StatefulSet records its templates), named
 * `<server>-<hash>` and labelled with the hash. What runs and what the registry serves come only
 * from the latest of them; the last ten are kept. Namespace editors cannot write
 * ControllerRevisions (the built-in edit role only reads them), so an approval cannot be forged.
 */
import { ServedSpec } from "../crds/index.js";
import { controllerOf, controllerReference, CoreTypes, type KubeObject, type ResourceType } from "../runtime/index.js";
import { McpServerType, type McpServerObject } from "../mcpserver/type.js";
import { labelsFor } from "../mcpserver/names.js";

export const ControllerRevisionType: ResourceType = CoreTypes.ControllerRevision;
export const REVISION_HASH_LABEL = "controller-revision-hash";
export const REVISIONS_KEPT = 10;

export interface ControllerRevision extends KubeObject {
  revision: number;
  data?: { specHash?: string; spec?: unknown };
}

/** An approved revision as the operator uses it. */
export interface ApprovedRevision {
  name: string;
  revision: number;
  specHash: string;
  spec: ServedSpec;
}

export const revisionName = (serverName: string, specHash: string) => `${serverName}-${specHash.slice(0, 10)}`;

export function revisionObject(server: McpServerObject, revision: number, specHash: string, spec: ServedSpec): ControllerRevision {
  return {
    apiVersion: "apps/v1",
    kind: "ControllerRevision",
    metadata: {
      name: revisionName(server.metadata.name, specHash),
      namespace: server.metadata.namespace,
      labels: { ...labelsFor(server), [REVISION_HASH_LABEL]: specHash.slice(0, 10) },
      ownerReferences: [controllerReference(McpServerType, server)],
    },
    revision,
    data: { specHash, spec },
  };
}

/** This server's revisions (controlled by its uid), oldest first. */
export function revisionsOf(all: readonly ControllerRevision[], serverUid: string | undefined): ControllerRevision[] {
  return all.filter((r) => serverUid !== undefined && controllerOf(r, McpServerType)?.uid === serverUid).sort((a, b) => a.revision - b.revision);
}

/** The newest revision whose data parses, or undefined (never approved). */
export function latestApproved(revisions: readonly ControllerRevision[]): ApprovedRevision | undefined {
  for (let i = revisions.length - 1; i >= 0; i--) {
    const r = revisions[i]!;
    const spec = ServedSpec.safeParse(r.data?.spec);
    if (spec.success && typeof r.data?.specHash === "string") return { name: r.metadata.name, revision: r.revision, specHash: r.data.specHash, spec: spec.data };
  }
  return undefined;
}

/** What the operator keeps of a cached revision: identity, ownership, number and data (a spec of a few KB). */
export function slimRevision<T extends KubeObject>(obj: T): T {
  const r = obj as unknown as ControllerRevision;
  const m = r.metadata;
  const slim: ControllerRevision = {
    apiVersion: r.apiVersion,
    kind: r.kind,
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, ownerReferences: m.ownerReferences },
    revision: r.revision,
    ...(r.data ? { data: r.data } : {}),
  };
  return slim as unknown as T;
}
