/**
 * The desired children of a workload server: ServiceAccount, policy ConfigMap, Deployment,
 * Service and NetworkPolicy, each owner-referenced to the McpServer. Pods are hardened
 * (non-root, read-only root file system, no privilege escalation, no capabilities), probed on
 * the kit's /healthz and /readyz, and roll when the policy changes (its hash is a pod
 * template annotation).
 */
import { createHash } from "node:crypto";
import type { McpServerSpec } from "../crds/index.js";
import type { McpServerObject as McpServer } from "../mcpserver/type.js";
import { serverPolicy } from "../policy/from-mcpserver.js";
import { controllerReference, CoreTypes, type KubeObject, type ResourceType } from "../runtime/index.js";
import { McpServerType } from "../mcpserver/type.js";
import { canonicalJson } from "./spec-hash.js";
import { APPLIED_HASH_ANNOTATION, childNames, labelsFor, POLICY_HASH_ANNOTATION, POLICY_KEY, POLICY_MOUNT, selectorFor, serverUrl } from "../mcpserver/names.js";

export interface ChildrenConfig {
  registryPrefix: string;
  clusterDomain: string;
  ingressNamespaces: readonly string[];
  verifierServiceAccount: string;
}

export interface DesiredChild {
  type: ResourceType;
  object: KubeObject & Record<string, unknown>;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/**
 * @param replicas what the review gate allows: the spec's replicas once approved, else 0.
 */
export function desiredChildren(server: McpServer, spec: McpServerSpec, replicas: number, config: ChildrenConfig): DesiredChild[] {
  const w = spec.workload;
  if (!w) return [];
  const ns = server.metadata.namespace;
  const names = childNames(server.metadata.name);
  const labels = labelsFor(server);
  const meta = (name: string) => ({ name, namespace: ns, labels, ownerReferences: [controllerReference(McpServerType, server)] });
  const policyText = canonicalJson(serverPolicy(server.metadata, spec, config));
  const url = serverUrl(server, spec, config.clusterDomain);

  const serviceAccount = { metadata: meta(names.serviceAccount) };

  const policy = { metadata: meta(names.policy), data: { [POLICY_KEY]: policyText } };

  const probe = (path: string, periodSeconds: number) => ({
    httpGet: { path, port: "http", scheme: "HTTP" },
    periodSeconds,
    timeoutSeconds: 2,
    failureThreshold: 3,
  });
  const env = [
    ...(w.env ?? []),
    { name: "PORT", value: String(w.port) },
    { name: "TOOLFLEET_POLICY_FILE", value: `${POLICY_MOUNT}/${POLICY_KEY}` },
    { name: "TOOLFLEET_PUBLIC_URL", value: url.slice(0, url.length - w.path.length) },
  ];
  const container: Record<string, unknown> = {
    name: "server",
    image: w.image,
    ports: [{ name: "http", containerPort: w.port, protocol: "TCP" }],
    env,
    securityContext: {
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    },
    readinessProbe: probe("/readyz", 5),
    livenessProbe: probe("/healthz", 10),
    volumeMounts: [
      { name: "policy", mountPath: POLICY_MOUNT, readOnly: true },
      { name: "tmp", mountPath: "/tmp" },
    ],
  };
  if (w.resources && (w.resources.requests || w.resources.limits)) container.resources = w.resources;

  const deployment = {
    metadata: meta(names.deployment),
    spec: {
      replicas,
      selector: { matchLabels: selectorFor(server) },
      template: {
        metadata: { labels, annotations: { [POLICY_HASH_ANNOTATION]: sha256(policyText) } },
        spec: {
          serviceAccountName: names.serviceAccount,
          securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
          containers: [container],
          volumes: [
            { name: "policy", configMap: { name: names.policy } },
            { name: "tmp", emptyDir: {} },
          ],
        },
      },
    },
  };

  const service = {
    metadata: meta(names.service),
    spec: {
      type: "ClusterIP",
      selector: selectorFor(server),
      ports: [{ name: "http", port: w.port, targetPort: "http", protocol: "TCP" }],
    },
  };

  // Only the namespaces the chart names (the registry, gateways) reach the server's port.
  const networkPolicy = {
    metadata: meta(names.networkPolicy),
    spec: {
      podSelector: { matchLabels: selectorFor(server) },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [{ namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: [...config.ingressNamespaces] }] } }],
          ports: [{ port: w.port, protocol: "TCP" }],
        },
      ],
    },
  };

  const children: DesiredChild[] = [
    { type: CoreTypes.ServiceAccount, object: serviceAccount },
    { type: CoreTypes.ConfigMap, object: policy },
    { type: CoreTypes.Deployment, object: deployment },
    { type: CoreTypes.Service, object: service },
    { type: CoreTypes.NetworkPolicy, object: networkPolicy },
  ];
  for (const child of children) {
    const hash = sha256(canonicalJson(child.object));
    child.object.metadata = { ...child.object.metadata, annotations: { [APPLIED_HASH_ANNOTATION]: hash } };
  }
  return children;
}

/** The applied hash a desired child carries. */
export const appliedHash = (child: DesiredChild) => child.object.metadata.annotations?.[APPLIED_HASH_ANNOTATION];

/**
 * What the operator keeps of a cached child: identity, ownership, its applied hash, and for a
 * Deployment its replica counts. A full Deployment is ~20 KB in memory; this is a few hundred bytes.
 */
export function slimChild<T extends KubeObject>(obj: T): T {
  const m = obj.metadata;
  const hash = m.annotations?.[APPLIED_HASH_ANNOTATION];
  const slim: KubeObject & Record<string, unknown> = {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      creationTimestamp: m.creationTimestamp,
      ownerReferences: m.ownerReferences,
      ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
      ...(hash ? { annotations: { [APPLIED_HASH_ANNOTATION]: hash } } : {}),
    },
  };
  if (obj.kind === "Deployment") {
    const d = obj as unknown as { spec?: { replicas?: number }; status?: { replicas?: number; readyReplicas?: number; observedGeneration?: number } };
    slim.spec = { replicas: d.spec?.replicas };
    slim.status = { replicas: d.status?.replicas, readyReplicas: d.status?.readyReplicas, observedGeneration: d.status?.observedGeneration };
  }
  return slim as unknown as T;
}

/** Every child type, for watching and clean-up. */
export const CHILD_TYPES: readonly ResourceType[] = [
  CoreTypes.ServiceAccount,
  CoreTypes.ConfigMap,
  CoreTypes.Deployment,
  CoreTypes.Service,
  CoreTypes.NetworkPolicy,
];

export function childNameFor(type: ResourceType, serverName: string): string {
  const n = childNames(serverName);
  if (type === CoreTypes.ConfigMap) return n.policy;
  return n.deployment;
}
