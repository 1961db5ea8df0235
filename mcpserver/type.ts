/** The McpServer resource as the runtime caches it: metadata typed, spec parsed on use. */
import { GROUP, KIND, PLURAL, VERSION, type McpServerStatus } from "../crds/index.js";
import type { KubeObject, ObjectMeta, ResourceType } from "../runtime/index.js";

export const McpServerType: ResourceType = { group: GROUP, version: VERSION, kind: KIND, plural: PLURAL, namespaced: true };

export interface McpServerObject extends KubeObject {
  metadata: ObjectMeta & { namespace: string };
  /** Unvalidated as cached; parse with McpServerSpec (which also applies defaults). */
  spec: unknown;
  status?: McpServerStatus;
}
