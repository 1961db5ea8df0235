/** The checked-in YAML files of crds/, rendered from the schema. */
import { stringify } from "yaml";
import { mcpServerCrd } from "./crd.js";
import { mcpServerRoles } from "./rbac.js";
import { reviewersConfigMap, reviewGateBinding, reviewGatePolicy } from "./review-policy.js";
import { serverPodsBinding, serverPodsPolicy, serverPodWritersConfigMap } from "./server-pods-policy.js";

const header = "# Generated from crds/*.ts by `make crds`; do not edit.\n";
const yaml = (...docs: unknown[]) => header + docs.map((d) => stringify(d, { lineWidth: 0 })).join("---\n");

export const CRD_FILE = "toolfleet.dev_mcpservers.yaml";
export const POLICY_FILE = "review-gate.yaml";
export const RBAC_FILE = "rbac.yaml";
export const SERVER_PODS_FILE = "server-pods.yaml";

export function renderedManifests(): Record<string, string> {
  return {
    [CRD_FILE]: yaml(mcpServerCrd()),
    [POLICY_FILE]: yaml(reviewGatePolicy(), reviewGateBinding(), reviewersConfigMap()),
    [RBAC_FILE]: yaml(...mcpServerRoles()),
    [SERVER_PODS_FILE]: yaml(serverPodsPolicy(), serverPodsBinding(), serverPodWritersConfigMap()),
  };
}
