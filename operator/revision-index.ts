/**
 * The ControllerRevisions of each McpServer, by the server's uid, kept from the revision
 * cache's changes: a reconcile reads its server's revisions without scanning every revision in
 * the cluster.
 */
import { controllerOf, type KubeObject, type ObjectCache } from "../runtime/index.js";
import { McpServerType } from "../mcpserver/type.js";
import type { ControllerRevision } from "./revisions.js";

export class RevisionIndex {
  private readonly byOwner = new Map<string, Map<string, ControllerRevision>>();
  private readonly unsubscribe: () => void;

  constructor(cache: ObjectCache<KubeObject>) {
    for (const r of cache.list()) this.put(r as ControllerRevision);
    this.unsubscribe = cache.onChange((type, obj, old) => {
      if (old) this.remove(old as ControllerRevision);
      if (type === "deleted") this.remove(obj as ControllerRevision);
      else this.put(obj as ControllerRevision);
    });
  }

  /** The revisions controlled by `uid`, oldest first. */
  of(uid: string | undefined): ControllerRevision[] {
    if (!uid) return [];
    return [...(this.byOwner.get(uid)?.values() ?? [])].sort((a, b) => a.revision - b.revision);
  }

  close(): void {
    this.unsubscribe();
  }

  private put(r: ControllerRevision): void {
    const uid = controllerOf(r, McpServerType)?.uid;
    if (!uid) return;
    let m = this.byOwner.get(uid);
    if (!m) this.byOwner.set(uid, (m = new Map()));
    m.set(`${r.metadata.namespace}/${r.metadata.name}`, r);
  }

  private remove(r: ControllerRevision): void {
    const uid = controllerOf(r, McpServerType)?.uid;
    const m = uid ? this.byOwner.get(uid) : undefined;
    if (!m) return;
    m.delete(`${r.metadata.namespace}/${r.metadata.name}`);
    if (m.size === 0) this.byOwner.delete(uid!);
  }
}
