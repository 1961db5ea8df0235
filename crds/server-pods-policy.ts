/**
 * Who may run a pod that carries the server label. A server's Service and NetworkPolicy select
 * its pods by `toolfleet.dev/server: <name>`, so a pod with that label receives the bearer tokens
 * people send to the server and is let through the server's policy. Without this gate a
 * namespace editor could label a pod of their own (or a Deployment, Job, … that makes one) and
 * sit behind an approved server's Service.
 *
 * The chain that legitimately makes such pods is short: the operator writes a Deployment, the
 * Deployment controller writes its ReplicaSets, the ReplicaSet controller writes the pods. This
 * ValidatingAdmissionPolicy lets each step be written only by the identities listed for it in a
 * ConfigMap (users or groups, comma separated), and lets no one else create or change, at any
 * step, an object whose pods would carry the label: no other workload kind may carry it at all,
 * and no one may add an ephemeral container to such a pod.
 */
import { SERVER_LABEL } from "../mcpserver/names.js";
import { SYSTEM_NAMESPACE } from "./review-policy.js";

export const SERVER_PODS_POLICY = "toolfleet-server-pods";
export const SERVER_PODS_WRITERS_CONFIGMAP = "toolfleet-server-pod-writers";

/** The Kubernetes controllers that carry a Deployment's template down to pods. */
const CONTROLLER_MANAGER = "system:kube-controller-manager";
const controller = (name: string) => `system:serviceaccount:kube-system:${name}`;
const GARBAGE_COLLECTOR = controller("generic-garbage-collector");

export interface ServerPodWriters {
  /** Identities that may write Deployments of servers: the operator's. */
  deployments: readonly string[];
  replicasets: readonly string[];
  pods: readonly string[];
}

/**
 * By default the operator is any service account of the system namespace (whoever can run pods
 * there runs the operator already); the controllers are named both ways the controller manager
 * may authenticate (its own identity, or one service account per controller).
 */
export function defaultServerPodWriters(operators: readonly string[] = [`system:serviceaccounts:${SYSTEM_NAMESPACE}`]): ServerPodWriters {
  return {
    deployments: [...operators, controller("deployment-controller"), GARBAGE_COLLECTOR, CONTROLLER_MANAGER],
    replicasets: [controller("deployment-controller"), GARBAGE_COLLECTOR, CONTROLLER_MANAGER],
    pods: [controller("replicaset-controller"), GARBAGE_COLLECTOR, CONTROLLER_MANAGER],
  };
}

export function serverPodWritersConfigMap(writers: ServerPodWriters = defaultServerPodWriters(), namespace = SYSTEM_NAMESPACE) {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: SERVER_PODS_WRITERS_CONFIGMAP, namespace, labels: { "app.kubernetes.io/part-of": "toolfleet" } },
    data: { deployments: writers.deployments.join(","), replicasets: writers.replicasets.join(","), pods: writers.pods.join(",") },
  };
}

/** The labels the pods of `obj` will carry, for every kind the policy matches. */
const podLabels = (obj: string) =>
  `(request.kind.kind == 'Pod' ? ${obj}.?metadata.?labels.orValue({}) : ` +
  `request.kind.kind == 'CronJob' ? ${obj}.?spec.?jobTemplate.?spec.?template.?metadata.?labels.orValue({}) : ` +
  `${obj}.?spec.?template.?metadata.?labels.orValue({}))`;

const carriesLabel = `'${SERVER_LABEL}' in ${podLabels("object")} || (oldObject != null && '${SERVER_LABEL}' in ${podLabels("oldObject")})`;

export function serverPodsPolicy() {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicy",
    metadata: { name: SERVER_PODS_POLICY },
    spec: {
      failurePolicy: "Fail",
      paramKind: { apiVersion: "v1", kind: "ConfigMap" },
      matchConstraints: {
        resourceRules: [
          { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["pods", "pods/ephemeralcontainers", "replicationcontrollers"] },
          { apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["deployments", "replicasets", "statefulsets", "daemonsets"] },
          { apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["jobs", "cronjobs"] },
        ],
      },
      // Everything without the label, before or after, is none of this policy's business (and
      // is never refused, even if the writers' ConfigMap is missing).
      matchConditions: [{ name: "carries-server-label", expression: carriesLabel }],
      variables: [
        {
          name: "step",
          expression:
            "request.?subResource.orValue('') != '' ? '' : request.kind.kind == 'Deployment' ? 'deployments' : " +
            "request.kind.kind == 'ReplicaSet' ? 'replicasets' : request.kind.kind == 'Pod' ? 'pods' : ''",
        },
        {
          name: "allowed",
          expression:
            "variables.step != '' && has(params.data) && variables.step in params.data && " +
            "params.data[variables.step].split(',').exists(w, w.trim() == request.userInfo.username || w.trim() in request.userInfo.groups)",
        },
      ],
      validations: [
        {
          expression: "variables.allowed",
          messageExpression:
            `'pods labelled ${SERVER_LABEL} are a Toolfleet server\\'s: only the operator\\'s Deployments and the controllers acting for them may make them, and ' + ` +
            "request.userInfo.username + ' may not ' + request.operation.lowerAscii() + ' this ' + request.kind.kind + " +
            "(request.?subResource.orValue('') != '' ? ' (' + request.subResource + ')' : '')",
          reason: "Forbidden",
        },
      ],
    },
  };
}

export function serverPodsBinding(namespace = SYSTEM_NAMESPACE) {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicyBinding",
    metadata: { name: SERVER_PODS_POLICY },
    spec: {
      policyName: SERVER_PODS_POLICY,
      validationActions: ["Deny"],
      paramRef: { name: SERVER_PODS_WRITERS_CONFIGMAP, namespace, parameterNotFoundAction: "Deny" },
    },
  };
}
