/**
 * ClusterRoles for McpServers. Editors of a namespace (the built-in edit and admin roles, by
 * aggregation) may manage its McpServers; reviewers may read every McpServer and update them,
 * which the review-gate policy narrows to their own area of spec.review. Binding reviewers to
 * their groups is the chart's job (and the tests').
 */
import { GROUP, PLURAL } from "./mcpserver.js";

export const EDITOR_ROLE = "toolfleet-mcpserver-editor";
export const VIEWER_ROLE = "toolfleet-mcpserver-viewer";
export const REVIEWER_ROLE = "toolfleet-mcpserver-reviewer";

const role = (name: string, labels: Record<string, string>, verbs: string[], extra: object[] = []) => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "ClusterRole",
  metadata: { name, labels: { "app.kubernetes.io/part-of": "toolfleet", ...labels } },
  rules: [{ apiGroups: [GROUP], resources: [PLURAL], verbs }, ...extra],
});

export function mcpServerRoles() {
  const read = ["get", "list", "watch"];
  return [
    role(EDITOR_ROLE, { "rbac.authorization.k8s.io/aggregate-to-edit": "true", "rbac.authorization.k8s.io/aggregate-to-admin": "true" }, [
      ...read, "create", "update", "patch", "delete", "deletecollection",
    ]),
    role(VIEWER_ROLE, { "rbac.authorization.k8s.io/aggregate-to-view": "true" }, read, [
      { apiGroups: [GROUP], resources: [`${PLURAL}/status`], verbs: read },
    ]),
    role(REVIEWER_ROLE, {}, [...read, "update", "patch"]),
  ];
}
