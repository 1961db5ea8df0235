/**
 * The children of a workload server, as one table: each kind with its type, its name and its
 * builder, and the view of the fields the operator owns on it (what a drift check compares).
 * Pods are hardened (non-root, read-only root file system, no privilege escalation, no
 * capabilities), probed on the kit's /healthz and /readyz, get what the kit needs to start and
 * verify callers from the operator's configuration, and roll when the policy changes (its hash
 * is a pod template annotation). Children are built from the served (approved) spec only.
 */
import { createHash } from "node:crypto";
import type { ServedSpec } from "../crds/index.js";
import { USAGE_BUFFER_DIR, USAGE_TOKEN_DIR, USAGE_TOKEN_FILE } from "../crds/usage.js";
import type { McpServerObject as McpServer } from "../mcpserver/type.js";
import { serverPolicy } from "../policy/from-mcpserver.js";
import { controllerReference, CoreTypes, type KubeObject, type ResourceType } from "../runtime/index.js";
import { McpServerType } from "../mcpserver/type.js";
import { canonicalJson } from "../common/canonical-json.js";
import { APPLIED_HASH_ANNOTATION, childNames, labelsFor, POLICY_HASH_ANNOTATION, POLICY_KEY, POLICY_MOUNT, selectorFor, serverUrl } from "../mcpserver/names.js";

/** What every workload needs to verify its callers (the operator's --oidc-* and --sa-* flags). */
export interface WorkloadAuth {
  oidcIssuer?: string;
  oidcJwksUrl?: string;
  /** Unset: each server's own public URL. */
  oidcAudience?: string;
  groupsClaim?: string;
  saIssuer?: string;
  saJwksUrl?: string;
}

/** Where workloads report usage records, and the audience of the token they report with. */
export interface WorkloadUsage {
  url: string;
  audience: string;
}

export interface ChildrenConfig {
  registryPrefix: string;
  clusterDomain: string;
  ingressNamespaces: readonly string[];
  verifierServiceAccount: string;
  auth: WorkloadAuth;
  usage?: WorkloadUsage;
}

/** A usage token lives an hour; the kubelet renews it well before, and the kit reads it on every delivery. */
const USAGE_TOKEN_SECONDS = 3600;
/** The buffer's bound on the node's disk (the kit's own bound counts records, this one bytes). */
const USAGE_BUFFER_SIZE = "512Mi";

type Obj = KubeObject & Record<string, unknown>;

interface BuildContext {
  server: McpServer;
  spec: ServedSpec;
  workload: NonNullable<ServedSpec["workload"]>;
  replicas: number;
  config: ChildrenConfig;
  meta: (name: string) => KubeObject["metadata"];
  policyText: string;
}

export interface ChildKind {
  type: ResourceType;
  name: (serverName: string) => string;
  build: (ctx: BuildContext) => Omit<Obj, "metadata">;
  /** The fields the operator sets (and fields nobody else may add), normalised: equal views, no drift. */
  view: (obj: Obj) => unknown;
}

export interface DesiredChild {
  kind: ChildKind;
  type: ResourceType;
  object: Obj;
  /** Hash of the whole desired object (also its applied-hash annotation). */
  appliedHash: string;
  /** Hash of its view. */
  viewHash: string;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Rec) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const pick = (v: unknown, keys: readonly string[]) => {
  const r = rec(v);
  return Object.fromEntries(keys.map((k) => [k, r[k]]));
};

/** Drops what JSON round trips and API defaults may drop or add empty: undefined, {} and []. */
function normalise(v: unknown): unknown {
  if (Array.isArray(v)) {
    const a = v.map(normalise);
    return a.length === 0 ? undefined : a;
  }
  if (v !== null && typeof v === "object") {
    const entries = Object.entries(v as Rec)
      .map(([k, x]) => [k, normalise(x)] as const)
      .filter(([, x]) => x !== undefined);
    return entries.length === 0 ? undefined : Object.fromEntries(entries);
  }
  return v;
}

const probeView = (p: unknown) =>
  p === undefined ? undefined : { ...pick(p, ["exec", "tcpSocket", "grpc", "periodSeconds", "timeoutSeconds", "failureThreshold"]), httpGet: pick(rec(p).httpGet, ["path", "port", "scheme", "host", "httpHeaders"]) };

const containerView = (c: unknown) => {
  const r = rec(c);
  return {
    ...pick(r, ["name", "image", "command", "args", "workingDir", "env", "envFrom", "securityContext", "resources", "lifecycle", "stdin", "tty"]),
    ports: arr(r.ports).map((p) => pick(p, ["name", "containerPort", "protocol", "hostPort", "hostIP"])),
    volumeMounts: arr(r.volumeMounts).map((m) => pick(m, ["name", "mountPath", "readOnly", "subPath", "subPathExpr"])),
    readinessProbe: probeView(r.readinessProbe),
    livenessProbe: probeView(r.livenessProbe),
    startupProbe: probeView(r.startupProbe),
  };
};

const deploymentView = (o: Obj) => {
  const spec = rec(o.spec);
  const template = rec(spec.template);
  const pod = rec(template.spec);
  return {
    replicas: spec.replicas,
    selector: spec.selector,
    labels: rec(template.metadata).labels,
    annotations: rec(template.metadata).annotations,
    pod: {
      ...pick(pod, ["serviceAccountName", "automountServiceAccountToken", "hostNetwork", "hostPID", "hostIPC", "nodeName", "nodeSelector", "securityContext", "runtimeClassName", "shareProcessNamespace", "initContainers", "ephemeralContainers"]),
      // A volume's kinds by key, so a hostPath added beside ours is seen; configMap's defaultMode is the API's default.
      volumes: arr(pod.volumes).map((v) => ({
        name: rec(v).name,
        kinds: Object.keys(rec(v)).filter((k) => k !== "name").sort(),
        configMap: pick(rec(v).configMap, ["name", "items"]),
        // The usage token's audience and the buffer's bound: a changed setting rolls the pods.
        projected: arr(rec(rec(v).projected).sources).map((src) => pick(rec(src).serviceAccountToken, ["audience", "expirationSeconds", "path"])),
        emptyDir: pick(rec(v).emptyDir, ["medium", "sizeLimit"]),
      })),
      containers: arr(pod.containers).map(containerView),
    },
  };
};

function deployment(ctx: BuildContext): Omit<Obj, "metadata"> {
  const { server, workload: w, config } = ctx;
  const names = childNames(server.metadata.name);
  const url = serverUrl(server, ctx.spec, config.clusterDomain);
  const publicUrl = url.slice(0, url.length - w.path.length);
  const probe = (path: string, periodSeconds: number) => ({ httpGet: { path, port: "http", scheme: "HTTP" }, periodSeconds, timeoutSeconds: 2, failureThreshold: 3 });
  const a = config.auth;
  // The operator's entries come last: for a duplicated name the last one wins, so a spec's env
  // cannot replace what the kit is told about its own identity and callers.
  const env = [
    ...(w.env ?? []),
    { name: "PORT", value: String(w.port) },
    { name: "TOOLFLEET_POLICY_FILE", value: `${POLICY_MOUNT}/${POLICY_KEY}` },
    { name: "TOOLFLEET_PUBLIC_URL", value: publicUrl },
    ...(a.oidcIssuer ? [{ name: "TOOLFLEET_OIDC_ISSUER", value: a.oidcIssuer }] : []),
    ...(a.oidcJwksUrl ? [{ name: "TOOLFLEET_OIDC_JWKS_URL", value: a.oidcJwksUrl }] : []),
    ...(a.oidcIssuer ? [{ name: "TOOLFLEET_OIDC_AUDIENCE", value: a.oidcAudience ?? url }] : []),
    ...(a.groupsClaim ? [{ name: "TOOLFLEET_GROUPS_CLAIM", value: a.groupsClaim }] : []),
    ...(a.saIssuer ? [{ name: "TOOLFLEET_SA_ISSUER", value: a.saIssuer }] : []),
    ...(a.saJwksUrl ? [{ name: "TOOLFLEET_SA_JWKS_URL", value: a.saJwksUrl }] : []),
    // Where the other replicas reach this one: a 2025 session, or a 2026 confirmation, that
    // lands on another replica is forwarded here (servers/kit). The replicas' shared key comes
    // from the spec's env (TOOLFLEET_REPLICA_KEY from a Secret, a reviewed reference).
    // The kit makes the URL from the address and PORT (an IPv6 address goes in brackets).
    { name: "TOOLFLEET_REPLICA_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
    // Usage records go to the registry with a token of the pod's own service account for the
    // registry's audience (projected below), buffered on a volume that outlives the container.
    ...(config.usage
      ? [
          { name: "TOOLFLEET_USAGE_URL", value: config.usage.url },
          { name: "TOOLFLEET_USAGE_TOKEN_FILE", value: USAGE_TOKEN_FILE },
          { name: "TOOLFLEET_USAGE_DIR", value: USAGE_BUFFER_DIR },
        ]
      : []),
  ];
  const container: Rec = {
    name: "server",
    image: w.image,
    ports: [{ name: "http", containerPort: w.port, protocol: "TCP" }],
    env,
    securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } },
    readinessProbe: probe("/readyz", 5),
    livenessProbe: probe("/healthz", 10),
    volumeMounts: [
      { name: "policy", mountPath: POLICY_MOUNT, readOnly: true },
      { name: "tmp", mountPath: "/tmp" },
      ...(config.usage
        ? [
            { name: "usage-token", mountPath: USAGE_TOKEN_DIR, readOnly: true },
            { name: "usage-buffer", mountPath: USAGE_BUFFER_DIR },
          ]
        : []),
    ],
  };
  if (w.resources && (w.resources.requests || w.resources.limits)) container.resources = w.resources;
  return {
    spec: {
      replicas: ctx.replicas,
      selector: { matchLabels: selectorFor(server) },
      template: {
        metadata: { labels: labelsFor(server), annotations: { [POLICY_HASH_ANNOTATION]: sha256(ctx.policyText) } },
        spec: {
          serviceAccountName: names.serviceAccount,
          securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
          containers: [container],
          volumes: [
            { name: "policy", configMap: { name: names.policy } },
            { name: "tmp", emptyDir: {} },
            ...(config.usage
              ? [
                  {
                    name: "usage-token",
                    projected: { sources: [{ serviceAccountToken: { audience: config.usage.audience, expirationSeconds: USAGE_TOKEN_SECONDS, path: "token" } }] },
                  },
                  { name: "usage-buffer", emptyDir: { sizeLimit: USAGE_BUFFER_SIZE } },
                ]
              : []),
          ],
        },
      },
    },
  };
}

/** Who may open a connection to the server's port: the namespaces of its allowed service accounts, the ingress namespaces and the verifier's. */
export function admittedNamespaces(spec: ServedSpec, config: Pick<ChildrenConfig, "ingressNamespaces" | "verifierServiceAccount">): string[] {
  const fromAccounts = spec.access.allowedServiceAccounts.map((sa) => sa.split("/")[0]!);
  return [...new Set([...config.ingressNamespaces, config.verifierServiceAccount.split("/")[0]!, ...fromAccounts])].sort();
}

/** Every child kind (the reconciler writes the Deployment after the others: see runsPods). */
export const CHILDREN: readonly ChildKind[] = [
  {
    type: CoreTypes.ServiceAccount,
    name: (s) => childNames(s).serviceAccount,
    build: () => ({}),
    view: (o) => pick(o, ["automountServiceAccountToken", "imagePullSecrets", "secrets"]),
  },
  {
    type: CoreTypes.ConfigMap,
    name: (s) => childNames(s).policy,
    build: (ctx) => ({ data: { [POLICY_KEY]: ctx.policyText } }),
    view: (o) => pick(o, ["data", "binaryData", "immutable"]),
  },
  { type: CoreTypes.Deployment, name: (s) => childNames(s).deployment, build: deployment, view: deploymentView },
  {
    type: CoreTypes.Service,
    name: (s) => childNames(s).service,
    build: ({ server, workload }) => ({
      spec: { type: "ClusterIP", selector: selectorFor(server), ports: [{ name: "http", port: workload.port, targetPort: "http", protocol: "TCP" }] },
    }),
    view: (o) => {
      const spec = rec(o.spec);
      return { ...pick(spec, ["type", "selector", "externalIPs", "externalName", "loadBalancerSourceRanges"]), ports: arr(spec.ports).map((p) => pick(p, ["name", "port", "targetPort", "protocol"])) };
    },
  },
  {
    type: CoreTypes.NetworkPolicy,
    name: (s) => childNames(s).networkPolicy,
    build: ({ server, spec, workload, config }) => ({
      spec: {
        podSelector: { matchLabels: selectorFor(server) },
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [
              { namespaceSelector: { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: admittedNamespaces(spec, config) }] } },
              // The server's own replicas, which forward sessions and confirmations to each other.
              { podSelector: { matchLabels: selectorFor(server) } },
            ],
            ports: [{ port: workload.port, protocol: "TCP" }],
          },
        ],
      },
    }),
    view: (o) => ({ spec: o.spec }),
  },
];

/** The view hash of an object of `kind`: what the operator set on it, as the API server holds it. */
export const viewHash = (kind: ChildKind, obj: Obj) => sha256(canonicalJson(normalise(kind.view(obj)) ?? null));

/**
 * @param replicas the served spec's replicas, or 0 when nothing is approved to run.
 */
export function desiredChildren(server: McpServer, spec: ServedSpec, replicas: number, config: ChildrenConfig): DesiredChild[] {
  const workload = spec.workload;
  if (!workload) return [];
  const labels = labelsFor(server);
  const ctx: BuildContext = {
    server,
    spec,
    workload,
    replicas,
    config,
    meta: (name) => ({ name, namespace: server.metadata.namespace, labels, ownerReferences: [controllerReference(McpServerType, server)] }),
    policyText: canonicalJson(serverPolicy(server.metadata, spec, config)),
  };
  return CHILDREN.map((kind) => {
    const object: Obj = { apiVersion: kind.type.group ? `${kind.type.group}/${kind.type.version}` : kind.type.version, kind: kind.type.kind, metadata: ctx.meta(kind.name(server.metadata.name)), ...kind.build(ctx) };
    const appliedHash = sha256(canonicalJson(object));
    object.metadata = { ...object.metadata, annotations: { [APPLIED_HASH_ANNOTATION]: appliedHash } };
    return { kind, type: kind.type, object, appliedHash, viewHash: viewHash(kind, object) };
  });
}

/** A cached child: identity and ownership, plus for the operator's own its applied hash and live view hash. */
export interface SlimChild extends KubeObject {
  /** Hash of the live object's view (set only on objects an McpServer controls). */
  viewHash?: string;
}

const kindOf = (kind: string | undefined) => CHILDREN.find((c) => c.type.kind === kind);

/**
 * What the operator keeps of a cached object of a child type: identity, ownership, its applied
 * hash, the hash of the fields it owns (so drift is seen without keeping the object: a full
 * Deployment is ~20 KB, this a few hundred bytes) and a Deployment's replica counts. Objects no
 * McpServer controls keep only their identity: enough to refuse a name conflict. Its Services
 * keep their cluster IP.
 */
export function slimChild<T extends KubeObject>(obj: T): T {
  const m = obj.metadata;
  const ours = m.ownerReferences?.some((r) => r.controller === true && r.kind === McpServerType.kind) === true;
  const hash = m.annotations?.[APPLIED_HASH_ANNOTATION];
  const slim: SlimChild & Rec = {
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
      ...(ours && hash ? { annotations: { [APPLIED_HASH_ANNOTATION]: hash } } : {}),
    },
  };
  const kind = kindOf(obj.kind);
  if (ours && kind) slim.viewHash = viewHash(kind, obj as unknown as Obj);
  if (ours && obj.kind === "Deployment") {
    const d = obj as unknown as { status?: { replicas?: number; readyReplicas?: number; updatedReplicas?: number; observedGeneration?: number }; metadata: { generation?: number } };
    slim.metadata.generation = d.metadata.generation;
    slim.status = { replicas: d.status?.replicas, readyReplicas: d.status?.readyReplicas, updatedReplicas: d.status?.updatedReplicas, observedGeneration: d.status?.observedGeneration };
  }
  // A Service's cluster IP is where verification connects to the server (no cluster DNS needed).
  if (ours && obj.kind === "Service") {
    const clusterIP = (obj as unknown as { spec?: { clusterIP?: string } }).spec?.clusterIP;
    if (clusterIP) slim.spec = { clusterIP };
  }
  return slim as unknown as T;
}

/** The child that runs pods: written after every other child, so its pods start with what they mount, run as and are fenced by. */
export const runsPods = (kind: ChildKind) => kind.type === CoreTypes.Deployment;

/** Every child type, for watching and clean-up. */
export const CHILD_TYPES: readonly ResourceType[] = CHILDREN.map((c) => c.type);
