/**
 * What the operator's cache keeps of an McpServer: everything it reads (spec, status, identity),
 * less managedFields and kubectl's last-applied copy of the manifest (each as large as the spec
 * itself, never read), with the strings the fleet repeats (condition types, reasons and
 * messages, phases, namespaces, owners) kept once across servers.
 */
import { StringPool, stripManagedFields, type KubeObject } from "../runtime/index.js";

export const LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration";

/** Identities are unique to each object: pooling them would only grow the pool. */
const unique = (key: string) => key === "uid" || key === "resourceVersion";

export function cachedServerShape(strings = new StringPool()): (obj: KubeObject) => KubeObject {
  return (raw) => {
    const obj = stripManagedFields(raw);
    const annotations = obj.metadata.annotations;
    if (annotations?.[LAST_APPLIED_ANNOTATION] !== undefined) {
      const { [LAST_APPLIED_ANNOTATION]: _, ...rest } = annotations;
      obj.metadata = { ...obj.metadata, annotations: rest };
    }
    return strings.internTree(obj, unique);
  };
}
