/**
 * Finalizers as a tiny state machine (after kube-rs): add ours with a guarded JSON patch, clean
 * up when the object is being deleted, then remove ours by index with a `test` of that index,
 * so another writer's finalizers are never clobbered.
 */
import type { KubeClient } from "./kube-client.js";
import type { KubeObject, ResourceType } from "./objects.js";

export type FinalizerState = "absent" | "present" | "deleting-with-finalizer" | "deleting-without-finalizer";

export function finalizerState(obj: KubeObject, finalizer: string): FinalizerState {
  const has = obj.metadata.finalizers?.includes(finalizer) ?? false;
  if (obj.metadata.deletionTimestamp) return has ? "deleting-with-finalizer" : "deleting-without-finalizer";
  return has ? "present" : "absent";
}

export async function addFinalizer(client: KubeClient, type: ResourceType, obj: KubeObject, finalizer: string): Promise<void> {
  const current = obj.metadata.finalizers ?? [];
  const ops =
    current.length > 0
      ? [
          { op: "test", path: "/metadata/finalizers", value: current },
          { op: "add", path: "/metadata/finalizers/-", value: finalizer },
        ]
      : [
          // No list yet: guard on the version we read so a concurrent add is not overwritten.
          { op: "test", path: "/metadata/resourceVersion", value: obj.metadata.resourceVersion },
          { op: "add", path: "/metadata/finalizers", value: [finalizer] },
        ];
  await client.jsonPatch(type, obj.metadata.namespace, obj.metadata.name, ops);
}

export async function removeFinalizer(client: KubeClient, type: ResourceType, obj: KubeObject, finalizer: string): Promise<void> {
  const i = obj.metadata.finalizers?.indexOf(finalizer) ?? -1;
  if (i < 0) return;
  await client.jsonPatch(type, obj.metadata.namespace, obj.metadata.name, [
    { op: "test", path: `/metadata/finalizers/${i}`, value: finalizer },
    { op: "remove", path: `/metadata/finalizers/${i}` },
  ]);
}
