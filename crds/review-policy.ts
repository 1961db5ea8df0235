/**
 * The review gate's write side, enforced by the API server: a ValidatingAdmissionPolicy that
 * lets only the reviewer group of an area create, change or remove `spec.review.<area>`, and
 * only in the reviewer's own name. The groups are parameters (a ConfigMap), not literals, so a
 * cluster sets its own.
 */
import { GROUP, PLURAL } from "./mcpserver.js";

export const DEFAULT_REVIEWER_GROUPS: Readonly<Record<string, string>> = {
  security: "toolfleet:security-reviewers",
  legal: "toolfleet:legal-reviewers",
  genai: "toolfleet:genai-reviewers",
};
export const REVIEWERS_CONFIGMAP = "toolfleet-reviewers";
export const SYSTEM_NAMESPACE = "toolfleet-system";
export const POLICY_NAME = "toolfleet-review-gate";

/** An area's value may list several groups, separated by commas. */
export function reviewersConfigMap(groups: Readonly<Record<string, string>> = DEFAULT_REVIEWER_GROUPS, namespace = SYSTEM_NAMESPACE) {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: REVIEWERS_CONFIGMAP, namespace, labels: { "app.kubernetes.io/part-of": "toolfleet" } },
    data: { ...groups },
  };
}

const areasOf = (obj: string) => `${obj}.spec.review.map(a, a)`;

export function reviewGatePolicy() {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicy",
    metadata: { name: POLICY_NAME },
    spec: {
      failurePolicy: "Fail",
      paramKind: { apiVersion: "v1", kind: "ConfigMap" },
      matchConstraints: {
        resourceRules: [{ apiGroups: [GROUP], apiVersions: ["*"], operations: ["CREATE", "UPDATE"], resources: [PLURAL] }],
      },
      variables: [
        { name: "newAreas", expression: `has(object.spec.review) ? ${areasOf("object")} : []` },
        {
          name: "oldAreas",
          expression: `request.operation == 'CREATE' || !has(oldObject.spec.review) ? [] : ${areasOf("oldObject")}`,
        },
        {
          name: "changed",
          expression:
            "(variables.newAreas + variables.oldAreas.filter(a, !(a in variables.newAreas))).filter(a, " +
            "!(a in variables.oldAreas) || !(a in variables.newAreas) || object.spec.review[a] != oldObject.spec.review[a])",
        },
        {
          name: "denied",
          expression:
            "variables.changed.filter(a, !(has(params.data) && a in params.data && " +
            "params.data[a].split(',').exists(g, g.trim() in request.userInfo.groups)))",
        },
      ],
      validations: [
        {
          expression: "size(variables.denied) == 0",
          messageExpression:
            "'spec.review.' + variables.denied.join(', spec.review.') + ': only the area\\'s reviewer group may change a review, and ' + request.userInfo.username + ' is not in it'",
          reason: "Forbidden",
        },
        {
          expression:
            "variables.changed.all(a, !(a in variables.newAreas) || !has(object.spec.review[a].reviewer) || object.spec.review[a].reviewer == request.userInfo.username)",
          messageExpression:
            "'spec.review.' + variables.changed.filter(a, a in variables.newAreas && has(object.spec.review[a].reviewer) && object.spec.review[a].reviewer != request.userInfo.username).join(', spec.review.') + '.reviewer must be ' + request.userInfo.username + ', the user who writes the review'",
          reason: "Forbidden",
        },
      ],
    },
  };
}

export function reviewGateBinding(namespace = SYSTEM_NAMESPACE) {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicyBinding",
    metadata: { name: POLICY_NAME },
    spec: {
      policyName: POLICY_NAME,
      validationActions: ["Deny"],
      paramRef: { name: REVIEWERS_CONFIGMAP, namespace, parameterNotFoundAction: "Deny" },
    },
  };
}
