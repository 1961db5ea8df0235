/**
 * The few writes the reconciler makes, behind one small interface: the real one speaks to the
 * API server through KubeClient; the reconciler's unit tier passes a fake that records them.
 * Children are created (never applied over an object someone else made) and replaced whole
 * with a uid and resourceVersion precondition (so a field another writer added is removed, and a
 * look-alike that replaced ours between read and write is never overwritten); deletions carry a
 * uid precondition too.
 */
import { KubeApiError, type KubeClient, type KubeObject, type ResourceType } from "../runtime/index.js";
import { McpServerType, type McpServerObject } from "../mcpserver/type.js";
import { FIELD_MANAGER } from "../mcpserver/names.js";
import type { McpServerStatus } from "../crds/index.js";
import { ControllerRevisionType, type ControllerRevision } from "./revisions.js";

export interface ReconcilerClient {
  /** Creates; undefined if the name is taken (409). */
  create(type: ResourceType, obj: KubeObject): Promise<KubeObject | undefined>;
  /** Replaces the object whose uid and resourceVersion are given in obj.metadata. */
  replace(type: ResourceType, obj: KubeObject): Promise<KubeObject>;
  get(type: ResourceType, namespace: string, name: string): Promise<KubeObject | undefined>;
  /** Deletes `name` only if its uid is still `uid`. */
  deleteIfUid(type: ResourceType, namespace: string, name: string, uid: string): Promise<void>;
  setRevisionNumber(namespace: string, name: string, revision: number): Promise<void>;
  applyStatus(object: McpServerObject, status: McpServerStatus): Promise<void>;
  /** Removes a finalizer an earlier version added (by index, guarded). */
  removeFinalizer(object: McpServerObject, finalizer: string): Promise<void>;
}

export class KubeReconcilerClient implements ReconcilerClient {
  constructor(private readonly client: KubeClient) {}

  async create(type: ResourceType, obj: KubeObject): Promise<KubeObject | undefined> {
    try {
      return (await this.client.request("POST", this.client.path(type, obj.metadata.namespace), obj, { fieldManager: FIELD_MANAGER })) as KubeObject;
    } catch (err) {
      if (err instanceof KubeApiError && err.statusCode === 409) return undefined;
      throw err;
    }
  }

  async replace(type: ResourceType, obj: KubeObject): Promise<KubeObject> {
    return (await this.client.request("PUT", this.client.path(type, obj.metadata.namespace, obj.metadata.name), obj, { fieldManager: FIELD_MANAGER })) as KubeObject;
  }

  get(type: ResourceType, namespace: string, name: string): Promise<KubeObject | undefined> {
    return this.client.get(type, namespace, name);
  }

  async deleteIfUid(type: ResourceType, namespace: string, name: string, uid: string): Promise<void> {
    try {
      await this.client.request("DELETE", this.client.path(type, namespace, name), { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: "Background", preconditions: { uid } });
    } catch (err) {
      // Gone already, or another object now has the name (precondition failed): nothing of ours to delete.
      if (err instanceof KubeApiError && (err.notFound || err.statusCode === 409)) return;
      throw err;
    }
  }

  async setRevisionNumber(namespace: string, name: string, revision: number): Promise<void> {
    await this.client.request("PATCH", this.client.path(ControllerRevisionType, namespace, name), { revision } satisfies Partial<ControllerRevision>, undefined, "application/merge-patch+json");
  }

  async applyStatus(object: McpServerObject, status: McpServerStatus): Promise<void> {
    await this.client.apply(
      McpServerType,
      { metadata: { name: object.metadata.name, namespace: object.metadata.namespace }, status } as KubeObject,
      { fieldManager: FIELD_MANAGER, force: true, subresource: "status" },
    );
  }

  async removeFinalizer(object: McpServerObject, finalizer: string): Promise<void> {
    const i = object.metadata.finalizers?.indexOf(finalizer) ?? -1;
    if (i < 0) return;
    try {
      await this.client.jsonPatch(McpServerType, object.metadata.namespace, object.metadata.name, [
        { op: "test", path: `/metadata/finalizers/${i}`, value: finalizer },
        { op: "remove", path: `/metadata/finalizers/${i}` },
      ]);
    } catch (err) {
      if (err instanceof KubeApiError && err.notFound) return;
      throw err;
    }
  }
}
