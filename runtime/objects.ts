/**
 * The little of the Kubernetes object model the runtime needs: what a resource type is, object
 * metadata, keys and owner references. Generic: nothing here knows any custom resource.
 */
export interface ResourceType {
  /** "" for the core group. */
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
  managedFields?: unknown[];
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

export const apiVersionOf = (t: ResourceType) => (t.group ? `${t.group}/${t.version}` : t.version);

/** `namespace/name`, or `name` for cluster-scoped objects: the work queue's key. */
export type ObjectKey = string;
export const keyOf = (namespace: string | undefined, name: string): ObjectKey => (namespace ? `${namespace}/${name}` : name);
export const objectKey = (o: KubeObject): ObjectKey => keyOf(o.metadata.namespace, o.metadata.name);
export function splitKey(key: ObjectKey): { namespace: string | undefined; name: string } {
  const i = key.indexOf("/");
  return i < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/** The owner reference that makes `owner` the controller of a child (garbage collected with it). */
export function controllerReference(type: ResourceType, owner: KubeObject): OwnerReference {
  if (!owner.metadata.uid) throw new Error(`${type.kind} ${objectKey(owner)} has no uid yet: read it from the API server before owning children`);
  return { apiVersion: apiVersionOf(type), kind: type.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
}

/** The controller owner reference of `child` if it is of `ownerType`. */
export function controllerOf(child: KubeObject, ownerType: ResourceType): OwnerReference | undefined {
  return child.metadata.ownerReferences?.find(
    (r) => r.controller === true && r.kind === ownerType.kind && r.apiVersion.split("/")[0] === (ownerType.group || r.apiVersion.split("/")[0]),
  );
}

/** Types of the children controllers usually own, declared once. */
export const CoreTypes = {
  ConfigMap: { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true },
  Secret: { group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true },
  Service: { group: "", version: "v1", kind: "Service", plural: "services", namespaced: true },
  ServiceAccount: { group: "", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts", namespaced: true },
  Pod: { group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true },
  Event: { group: "", version: "v1", kind: "Event", plural: "events", namespaced: true },
  Namespace: { group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false },
  Deployment: { group: "apps", version: "v1", kind: "Deployment", plural: "deployments", namespaced: true },
  ControllerRevision: { group: "apps", version: "v1", kind: "ControllerRevision", plural: "controllerrevisions", namespaced: true },
  NetworkPolicy: { group: "networking.k8s.io", version: "v1", kind: "NetworkPolicy", plural: "networkpolicies", namespaced: true },
  Lease: { group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", namespaced: true },
} as const satisfies Record<string, ResourceType>;
