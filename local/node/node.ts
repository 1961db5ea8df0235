/**
 * Starts and stops the local control plane's one real node: containerd, the kubelet, kube-
 * proxy (Services, nftables) and kube-router (NetworkPolicies only), each a detached process
 * with its log and pid under `.toolfleet/node/`, beside the kwok node. The node is tainted:
 * only namespaces that opt in (see harness.ts) run pods on it.
 *
 * The node changes the machine (a bridge, firewall rules, cgroups), so there is at most one
 * per machine: a marker in /run names the checkout whose node it is, and another checkout's
 * start is refused with a clear message instead of fighting over the bridge.
 */
import { buildBinaries, readJsonState, writeJsonState } from "../state-file.js";
import { freePort } from "../ports.js";
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pki, readState, runningCluster, type ClusterState } from "../cluster/controlplane.js";
import { writeKubeconfig } from "../cluster/kubeconfig.js";
import { kubectl } from "../cluster/kubectl.js";
import { alive, withLock } from "../cluster/lock.js";
import { repoRoot, stateDir } from "../cluster/paths.js";
import { clientCredentials } from "../cluster/pki.js";
import {
  cniConflist,
  containerdToml,
  KUBE_PROXY_USER,
  KUBE_ROUTER_USER,
  kubeletConfig,
  kubeProxyConfig,
  nodeLayout,
  nodeRbacYaml,
  NODE_IP,
  REAL_NODE,
  REAL_NODE_LABEL,
  SERVICE_CIDR,
  type NodeLayout,
} from "./config.js";
import { killPodProcesses, missingSystemPrograms, prepareHost, restoreHost, snapshotHost, type HostSnapshot } from "./host.js";
import { Ctr, nodeImage, pauseImage, projectImages } from "./images.js";
import { waitFor } from "../wait-for.js";

export const NODE_COMPONENTS = ["containerd", "kubelet", "kube-proxy", "kube-router"] as const;
export type NodeComponent = (typeof NODE_COMPONENTS)[number];

export interface NodeState {
  binDir: string;
  /** The API server this node registered with: a new control plane means a new node. */
  server: string;
  ports: { kubelet: number; kubeletHealthz: number; proxyHealthz: number; proxyMetrics: number; routerHealth: number };
  pids: Partial<Record<NodeComponent, number>>;
  host: HostSnapshot;
  images: string[];
  startedAt: string;
  /** Seconds from the start of `startRealNode` to a Ready node. */
  readySeconds?: number;
}

export const nodeDir = () => join(stateDir(), "node");
const statePath = () => join(nodeDir(), "state.json");
const lockPath = () => join(stateDir(), "node.lock");
/** Machine-wide: whose node this is (a node's state folder). */
const OWNER_MARKER = "/run/toolfleet-real-node";
const layout = () => nodeLayout(nodeDir());
const logPath = (c: NodeComponent) => join(layout().logs, `${c}.log`);

function progress(message: string): void {
  process.stderr.write(`[real-node] ${message}\n`);
}

export const readNodeState = () => readJsonState<NodeState>(statePath());
const writeNodeState = (state: NodeState) => writeJsonState(statePath(), state);

/** Builds (first time only) or finds the node's binaries, printing the build's progress. */
function ensureNodeBinaries(): string {
  return buildBinaries(join(repoRoot(), "local", "node", "build-node-binaries.sh"), "kubelet");
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

const diedMessage = (state: NodeState, c: NodeComponent) => () =>
  alive(state.pids[c]) ? undefined : `${c} exited; the end of ${logPath(c)}:\n${tail(logPath(c))}`;

async function httpOk(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

/** The API server must run with what a node needs; an older control plane lacks it. */
function checkApiServerFlags(cluster: ClusterState): void {
  const pid = cluster.pids["kube-apiserver"];
  const cmdline = pid ? readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0") : [];
  const needed = ["--authorization-mode=Node,RBAC", "--kubelet-preferred-address-types=InternalIP"];
  const missing = needed.filter((f) => !cmdline.includes(f));
  if (missing.length) {
    throw new Error(`the running API server lacks ${missing.join(" ")} (it was started by an older harness): restart it with \`make cluster-down && make cluster\``);
  }
}

function checkOwner(): void {
  if (!existsSync(OWNER_MARKER)) return;
  const owner = readFileSync(OWNER_MARKER, "utf8").trim();
  if (owner === nodeDir()) return;
  let ownerPids: number[] = [];
  try {
    ownerPids = Object.values((JSON.parse(readFileSync(join(owner, "state.json"), "utf8")) as NodeState).pids).filter((p): p is number => !!p);
  } catch {
    /* its state is gone: the marker is stale */
  }
  if (ownerPids.some((p) => alive(p))) {
    throw new Error(`this machine already runs a real node, from ${owner}: stop it there (node dist/local/node/cli.js down) first; there is one per machine`);
  }
}

function componentArgs(c: NodeComponent, state: NodeState, l: NodeLayout, kubeconfigs: NodeKubeconfigs): string[] {
  switch (c) {
    case "containerd":
      return ["--config", l.containerdConfig, "--log-level", "warn"];
    case "kubelet":
      return [
        `--config=${l.kubeletConfig}`,
        `--kubeconfig=${kubeconfigs.kubelet}`,
        `--root-dir=${l.kubeletRoot}`,
        `--cert-dir=${join(l.kubeletRoot, "pki")}`,
        `--hostname-override=${REAL_NODE}`,
        `--node-ip=${NODE_IP}`,
        `--node-labels=${REAL_NODE_LABEL.key}=${REAL_NODE_LABEL.value}`,
        "--v=1",
      ];
    case "kube-proxy":
      return [`--config=${l.kubeProxyConfig}`, "--v=1"];
    case "kube-router":
      return [
        `--kubeconfig=${kubeconfigs.kubeRouter}`,
        `--hostname-override=${REAL_NODE}`,
        // Only the NetworkPolicy firewall: routes come from the bridge, Services from kube-proxy.
        "--run-firewall=true",
        "--run-router=false",
        "--run-service-proxy=false",
        `--service-cluster-ip-range=${SERVICE_CIDR}`,
        `--health-port=${state.ports.routerHealth}`,
        "--v=1",
      ];
  }
}

function startComponent(c: NodeComponent, state: NodeState, l: NodeLayout, kubeconfigs: NodeKubeconfigs): number {
  const out = openSync(logPath(c), "a");
  const child = spawn(join(state.binDir, c), componentArgs(c, state, l, kubeconfigs), {
    detached: true,
    stdio: ["ignore", out, out],
    // containerd finds its runc shim on PATH; the Debian tools (runc, iptables, ipset, nft) are in /usr/sbin.
    env: { ...process.env, PATH: `${state.binDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` },
  });
  closeSync(out);
  child.unref();
  if (!child.pid) throw new Error(`could not start ${c}; see ${logPath(c)}`);
  return child.pid;
}

interface NodeKubeconfigs {
  kubelet: string;
  kubeProxy: string;
  kubeRouter: string;
}

function writeKubeconfigs(l: NodeLayout, server: string): NodeKubeconfigs {
  const p = pki();
  const make = (file: string, user: string, groups: string[]) => {
    const path = join(l.dir, file);
    writeKubeconfig(path, server, p.caCert, clientCredentials(p, user, groups));
    return path;
  };
  return {
    // The Node authorizer and NodeRestriction know a kubelet by this name and group.
    kubelet: make("kubelet.kubeconfig", `system:node:${REAL_NODE}`, ["system:nodes"]),
    kubeProxy: make("kube-proxy.kubeconfig", KUBE_PROXY_USER, []),
    kubeRouter: make("kube-router.kubeconfig", KUBE_ROUTER_USER, []),
  };
}

async function nodeReady(): Promise<boolean> {
  const r = await kubectl(["get", "node", REAL_NODE, "-o", 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'], { allowFailure: true });
  return r.code === 0 && r.stdout.trim() === "True";
}

/** Is this checkout's node up, registered with the running control plane and Ready? */
export async function runningNode(cluster?: ClusterState): Promise<NodeState | undefined> {
  const state = readNodeState();
  const c = cluster ?? (await runningCluster());
  if (!state || !c || state.server !== c.server) return undefined;
  if (!NODE_COMPONENTS.every((n) => alive(state.pids[n]))) return undefined;
  return (await nodeReady()) ? state : undefined;
}

/** Starts the real node (or finds it running); needs the control plane up. */
export async function startRealNode(): Promise<NodeState> {
  return withLock(lockPath(), async () => {
    const cluster = await runningCluster();
    if (!cluster) throw new Error("the local control plane is not running: start it first (make cluster)");
    const running = await runningNode(cluster);
    if (running) {
      progress(`reusing the real node ${REAL_NODE}`);
      importProjectImages(running);
      return running;
    }
    checkApiServerFlags(cluster);
    checkOwner();
    const missing = missingSystemPrograms();
    if (missing.length) throw new Error(`the real node needs ${missing.join(", ")} from Debian: run \`make system-deps\``);
    const t0 = Date.now();
    const since = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
    const binDir = ensureNodeBinaries();
    await stopUnlocked({ quiet: true });
    return startFresh(cluster, binDir, t0, since);
  });
}

async function startFresh(cluster: ClusterState, binDir: string, t0: number, since: () => string): Promise<NodeState> {
  const l = layout();
  for (const d of [l.logs, l.cniConfDir, l.cniDataDir, l.kubeletRoot, l.podLogs, l.containerdRoot, l.containerdState]) mkdirSync(d, { recursive: true });
  const host = snapshotHost();
  writeFileSync(OWNER_MARKER, nodeDir());
  const state: NodeState = {
    binDir,
    server: cluster.server,
    ports: { kubelet: await freePort(), kubeletHealthz: await freePort(), proxyHealthz: await freePort(), proxyMetrics: await freePort(), routerHealth: await freePort() },
    pids: {},
    host,
    images: [],
    startedAt: new Date().toISOString(),
  };
  writeNodeState(state);
  prepareHost();

  const pause = pauseImage(binDir);
  writeFileSync(l.containerdConfig, containerdToml(l, pause.ref));
  writeFileSync(join(l.cniConfDir, "10-toolfleet.conflist"), cniConflist(l));
  writeFileSync(l.kubeletConfig, kubeletConfig(l, pki().caCert, { kubelet: state.ports.kubelet, healthz: state.ports.kubeletHealthz }));
  const kubeconfigs = writeKubeconfigs(l, cluster.server);
  writeFileSync(l.kubeProxyConfig, kubeProxyConfig(kubeconfigs.kubeProxy, { healthz: state.ports.proxyHealthz, metrics: state.ports.proxyMetrics }));
  await kubectl(["apply", "--server-side", "--force-conflicts", "--field-manager=toolfleet-node", "-f", "-"], { input: nodeRbacYaml() });
  // A node object left by an earlier run would carry its old addresses and taints.
  await kubectl(["delete", "node", REAL_NODE, "--ignore-not-found", "--wait=false"], { allowFailure: true });

  state.pids.containerd = startComponent("containerd", state, l, kubeconfigs);
  writeNodeState(state);
  const ctr = new Ctr(binDir, l.containerdSocket);
  await waitFor(
    "containerd",
    async () => {
      try {
        ctr.images();
        return true;
      } catch {
        return false;
      }
    },
    60_000,
    250, diedMessage(state, "containerd"),
  );
  ctr.importImage(pause);
  state.images.push(pause.ref);
  progress(`containerd ready, sandbox image imported (${since()})`);

  state.pids.kubelet = startComponent("kubelet", state, l, kubeconfigs);
  writeNodeState(state);
  await waitFor("kubelet", nodeReady, 120_000, 250, diedMessage(state, "kubelet"));
  state.readySeconds = Math.round((Date.now() - t0) / 100) / 10;
  progress(`kubelet registered ${REAL_NODE}, Ready (${since()})`);

  state.pids["kube-proxy"] = startComponent("kube-proxy", state, l, kubeconfigs);
  state.pids["kube-router"] = startComponent("kube-router", state, l, kubeconfigs);
  writeNodeState(state);
  await waitFor("kube-proxy", () => httpOk(`http://127.0.0.1:${state.ports.proxyHealthz}/healthz`), 60_000, 250, diedMessage(state, "kube-proxy"));
  await waitFor("kube-router", () => httpOk(`http://127.0.0.1:${state.ports.routerHealth}/healthz`), 60_000, 250, diedMessage(state, "kube-router"));
  progress(`kube-proxy (nftables) and kube-router (NetworkPolicy firewall) running (${since()})`);

  const node = nodeImage();
  ctr.importImage(node);
  state.images.push(node.ref);
  writeNodeState(state);
  importProjectImages(state);
  progress(`images imported: ${state.images.join(", ")} (${since()})`);
  return state;
}

/** Imports the project's images from dist/images/ (when built) that the node lacks or has in another build. */
function importProjectImages(state: NodeState): void {
  const ctr = new Ctr(state.binDir, layout().containerdSocket);
  for (const image of projectImages()) {
    ctr.importImage(image);
    if (!state.images.includes(image.ref)) state.images.push(image.ref);
  }
  writeNodeState(state);
}

async function stopProcess(pid: number | undefined, graceMs = 10_000): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid!, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid!, "SIGKILL");
}

/** The runc shims of this node's containerd (found by the socket address they were given). */
function shimPids(socket: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if ((cmd[0] ?? "").endsWith("containerd-shim-runc-v2") && cmd.includes(socket)) pids.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return pids;
}

/** Stops the node and puts the machine back; safe to call when nothing runs. */
export async function stopRealNode(opts: { quiet?: boolean } = {}): Promise<void> {
  await withLock(lockPath(), () => stopUnlocked(opts));
}

async function stopUnlocked(opts: { quiet?: boolean }): Promise<void> {
  const state = readNodeState();
  const dir = nodeDir();
  if (!state && !existsSync(dir)) {
    if (!opts.quiet) progress("no real node was running");
    return;
  }
  for (const c of ["kube-router", "kube-proxy", "kubelet"] as const) await stopProcess(state?.pids[c]);
  const l = layout();
  killPodProcesses();
  for (const pid of shimPids(l.containerdSocket)) await stopProcess(pid, 2000);
  await stopProcess(state?.pids.containerd);
  const problems = restoreHost(state?.host, dir);
  rmSync(dir, { recursive: true, force: true });
  if (existsSync(OWNER_MARKER) && readFileSync(OWNER_MARKER, "utf8").trim() === dir) rmSync(OWNER_MARKER, { force: true });
  // The Node object goes too, or its pods would wait for a kubelet that will not come back.
  if (readState()) await kubectl(["delete", "node", REAL_NODE, "--ignore-not-found", "--wait=false"], { allowFailure: true }).catch(() => undefined);
  if (problems.length) progress(`left behind: ${problems.join("; ")}`);
  if (!opts.quiet) progress("stopped the real node and put the machine back");
}

/** Resident memory (kB) of the node's own processes and of everything its pods run. */
export function nodeMemoryKb(state: NodeState): { components: Record<string, number>; shimsAndPods: number } {
  const rss = (pid: number) => {
    try {
      return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    } catch {
      return 0;
    }
  };
  const components: Record<string, number> = {};
  for (const c of NODE_COMPONENTS) components[c] = state.pids[c] ? rss(state.pids[c]!) : 0;
  let shimsAndPods = shimPids(layout().containerdSocket).reduce((s, p) => s + rss(p), 0);
  for (const h of ["memory"]) {
    try {
      shimsAndPods += Math.round(Number(readFileSync(`/sys/fs/cgroup/${h}/kubepods/memory.usage_in_bytes`, "utf8")) / 1024);
    } catch {
      /* no pods yet */
    }
  }
  return { components, shimsAndPods };
}
