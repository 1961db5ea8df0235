/**
 * The real node's configuration files: containerd's, the CNI network's, the kubelet's and
 * kube-proxy's, and the RBAC its components need. Kept apart from the code that starts the
 * processes so that every setting that took finding out sits in one place with its reason.
 */
import { join } from "node:path";
import { stringify } from "yaml";
import { APISERVER_KUBELET_CLIENT } from "../cluster/controlplane.js";

/** The one real node's name, beside kwok's `kwok-node-0`. */
export const REAL_NODE = "real-node-0";
/** Pods that may run on the real node tolerate this taint; every other pod stays on kwok. */
export const REAL_NODE_TAINT = { key: "toolfleet.dev/real-node", value: "true", effect: "NoSchedule" } as const;
export const REAL_NODE_LABEL = { key: "toolfleet.dev/node", value: "real" } as const;
/** The CNI bridge: its gateway is also the node's address (the kubelet refuses a loopback one). */
export const BRIDGE = "toolfleet0";
export const POD_CIDR = "10.88.0.0/16";
export const NODE_IP = "10.88.0.1";
export const SERVICE_CIDR = "10.96.0.0/16";
export const KUBE_PROXY_USER = "system:kube-proxy";
export const KUBE_ROUTER_USER = "toolfleet:kube-router";

export interface NodeLayout {
  dir: string;
  containerdRoot: string;
  containerdState: string;
  containerdSocket: string;
  containerdConfig: string;
  cniConfDir: string;
  cniDataDir: string;
  kubeletRoot: string;
  kubeletConfig: string;
  podLogs: string;
  kubeProxyConfig: string;
  logs: string;
}

export function nodeLayout(dir: string): NodeLayout {
  return {
    dir,
    containerdRoot: join(dir, "containerd", "root"),
    containerdState: join(dir, "containerd", "state"),
    containerdSocket: join(dir, "containerd", "containerd.sock"),
    containerdConfig: join(dir, "containerd.toml"),
    cniConfDir: join(dir, "cni", "net.d"),
    cniDataDir: join(dir, "cni", "ipam"),
    kubeletRoot: join(dir, "kubelet"),
    kubeletConfig: join(dir, "kubelet.yaml"),
    podLogs: join(dir, "pod-logs"),
    kubeProxyConfig: join(dir, "kube-proxy.yaml"),
    logs: join(dir, "logs"),
  };
}

const q = (s: string) => JSON.stringify(s);

export function containerdToml(l: NodeLayout, sandboxImage: string): string {
  return `version = 4
root = ${q(l.containerdRoot)}
state = ${q(l.containerdState)}
# Snapshotters that need cgo or a block device are not built in; say so rather than warn on start.
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.blockfile", "io.containerd.snapshotter.v1.erofs"]

# Its own sockets: the defaults are the machine's /run/containerd.
[plugins."io.containerd.server.v1.grpc"]
  address = ${q(l.containerdSocket)}
[plugins."io.containerd.server.v1.ttrpc"]
  address = ${q(`${l.containerdSocket}.ttrpc`)}

[plugins."io.containerd.nri.v1.nri"]
  # No NRI plugins here, and left on it would make /run/nri.
  disable = true

[plugins."io.containerd.cri.v1.images"]
  snapshotter = "overlayfs"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    # There is no registry: the sandbox image is built locally and imported with ctr.
    sandbox = ${q(sandboxImage)}

[plugins."io.containerd.cri.v1.runtime"]
  enable_selinux = false
  # Root here lacks CAP_SYS_RESOURCE: without this every sandbox fails to start
  # ("can't get final child's PID from pipe: EOF") as runc tries to lower oom_score_adj.
  restrict_oom_score_adj = true
  # Network namespaces under the node's own state, not the machine's /run/netns.
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        # cgroup v1 through cgroupfs: the machine has no systemd to delegate to.
        SystemdCgroup = false
        Root = ${q(join(l.containerdState, "runc"))}
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["/usr/lib/cni"]
    conf_dir = ${q(l.cniConfDir)}
    max_conf_num = 1
`;
}

/** The pod network: one bridge with host-local addresses; traffic to the outside is masqueraded. */
export function cniConflist(l: NodeLayout): string {
  return JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: "toolfleet",
      plugins: [
        {
          type: "bridge",
          bridge: BRIDGE,
          isGateway: true,
          ipMasq: true,
          // A pod reaching itself through its own Service comes back over the same port.
          hairpinMode: true,
          ipam: { type: "host-local", dataDir: l.cniDataDir, ranges: [[{ subnet: POD_CIDR, gateway: NODE_IP }]], routes: [{ dst: "0.0.0.0/0" }] },
        },
        { type: "portmap", capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

export interface KubeletPorts {
  kubelet: number;
  healthz: number;
}

export function kubeletConfig(l: NodeLayout, caCert: string, ports: KubeletPorts): string {
  return stringify({
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    // 1.37 refuses cgroup v1 unless told otherwise; this machine's hierarchy is v1 (hybrid).
    failCgroupV1: false,
    cgroupDriver: "cgroupfs",
    failSwapOn: false,
    containerRuntimeEndpoint: `unix://${l.containerdSocket}`,
    // Serves logs and exec to the API server on the bridge address only.
    address: NODE_IP,
    port: ports.kubelet,
    readOnlyPort: 0,
    healthzBindAddress: "127.0.0.1",
    healthzPort: ports.healthz,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: caCert } },
    authorization: { mode: "Webhook" },
    podLogsDir: l.podLogs,
    clusterDomain: "cluster.local",
    registerWithTaints: [REAL_NODE_TAINT],
    // A shared test machine: the disk is not the node's to guard, so no evictions for it.
    evictionHard: { "memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%", "nodefs.inodesFree": "1%" },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    // The locally imported images have no registry to come back from: never collect them.
    imageMinimumGCAge: "87600h",
    maxPods: 60,
    serializeImagePulls: false,
    nodeStatusReportFrequency: "1m",
    // Lowering its own oom_score_adj needs CAP_SYS_RESOURCE, which root lacks here.
    oomScoreAdj: 0,
  });
}

export interface KubeProxyPorts {
  healthz: number;
  metrics: number;
}

export function kubeProxyConfig(kubeconfig: string, ports: KubeProxyPorts): string {
  return stringify({
    apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
    kind: "KubeProxyConfiguration",
    mode: "nftables",
    clientConnection: { kubeconfig },
    hostnameOverride: REAL_NODE,
    bindAddress: NODE_IP,
    healthzBindAddress: `127.0.0.1:${ports.healthz}`,
    metricsBindAddress: `127.0.0.1:${ports.metrics}`,
    clusterCIDR: POD_CIDR,
    // NodePorts only on the bridge, never on the machine's own interfaces.
    nodePortAddresses: [POD_CIDR],
    // At 0 kube-proxy leaves the machine's conntrack sysctls alone.
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: "0s", tcpCloseWaitTimeout: "0s" },
    oomScoreAdj: 0,
  });
}

/** What the node's components may do beyond the bootstrap roles (kube-proxy has system:node-proxier). */
export function nodeRbacYaml(): string {
  const docs = [
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "toolfleet:apiserver-kubelet-client" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:kubelet-api-admin" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: APISERVER_KUBELET_CLIENT }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "toolfleet:kube-router" },
      rules: [
        { apiGroups: [""], resources: ["namespaces", "pods", "nodes", "services", "endpoints"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["get", "list", "watch"] },
        { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
      ],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "toolfleet:kube-router" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "toolfleet:kube-router" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: KUBE_ROUTER_USER }],
    },
  ];
  return docs.map((d) => stringify(d)).join("---\n");
}

/** The EndpointSlice of the `kubernetes` Service the node writes (the control plane writes none). */
export const API_SERVER_SLICE = "kubernetes-real-node";

/**
 * Where pods reach the API server: the `kubernetes` Service (10.96.0.1:443, which the serving
 * certificate names) gets one endpoint, the relay on the bridge address to the API server on
 * the host's loopback. The API server's own endpoint reconciler is off (it refuses a loopback
 * address), so nothing else writes it; the in-pod clients (KUBERNETES_SERVICE_HOST) then work.
 */
export function apiServerEndpoints(relayPort: number): object {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: { name: API_SERVER_SLICE, namespace: "default", labels: { "kubernetes.io/service-name": "kubernetes", "endpointslice.kubernetes.io/managed-by": "toolfleet.dev-real-node" } },
    addressType: "IPv4",
    endpoints: [{ addresses: [NODE_IP], conditions: { ready: true } }],
    ports: [{ name: "https", port: relayPort, protocol: "TCP" }],
  };
}
