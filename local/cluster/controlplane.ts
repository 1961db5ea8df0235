/**
 * Starts and stops the local control plane: etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler and kwok, each a detached process on loopback that outlives the command that
 * started it, with its log and pid under `.toolfleet/cluster/`.
 */
import { buildBinaries, readJsonState, writeJsonState } from "../state-file.js";
import { freePort } from "../ports.js";
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { clientCredentials, ensurePki, type ClientCredentials, type Pki } from "./pki.js";
import { adminKubeconfigPath, clusterDir, repoRoot, stateDir } from "./paths.js";
import { writeKubeconfig } from "./kubeconfig.js";
import { alive, withLock } from "./lock.js";
import { waitFor } from "../wait-for.js";

export { alive } from "./lock.js";

export const COMPONENTS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"] as const;
export type Component = (typeof COMPONENTS)[number];

export interface ClusterState {
  binDir: string;
  server: string;
  ports: { etcd: number; etcdPeer: number; apiserver: number; controllerManager: number; scheduler: number; kwok: number };
  pids: Partial<Record<Component, number>>;
  startedAt: string;
}

export const ADMIN_USER = "toolfleet-admin";
const statePath = () => join(clusterDir(), "state.json");
/** Held while the control plane is started, installed into, or has a component restarted. */
export const clusterLockPath = () => join(stateDir(), "cluster.lock");
const logPath = (c: Component) => join(clusterDir(), "logs", `${c}.log`);

export function progress(message: string): void {
  process.stderr.write(`[cluster] ${message}\n`);
}

/** Builds (first time only) or finds the binaries; prints the build's progress through. */
export function ensureBinaries(): string {
  return buildBinaries(join(repoRoot(), "local", "cluster", "build-binaries.sh"), "kube-apiserver");
}

export const readState = () => readJsonState<ClusterState>(statePath());
const writeState = (state: ClusterState) => writeJsonState(statePath(), state);

export function pki(): Pki {
  return ensurePki(join(clusterDir(), "pki"));
}

export function adminCredentials(): ClientCredentials {
  return clientCredentials(pki(), ADMIN_USER, ["system:masters"]);
}

/** Does a GET of `url` answer 2xx within a second? */
export async function httpOk(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}


/** GET a path of the API server as the admin; resolves with the status code and body. */
export function apiGet(state: ClusterState, path: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  const admin = adminCredentials();
  const p = pki();
  return new Promise((resolve) => {
    const req = request(
      `${state.server}${path}`,
      { ca: readFileSync(p.caCert), cert: readFileSync(admin.cert), key: readFileSync(admin.key), timeout: timeoutMs },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve({ status: 0, body: "" }));
    req.end();
  });
}

/** The API server's client identity towards kubelets; local/node/ grants it the kubelet API. */
export const APISERVER_KUBELET_CLIENT = "kube-apiserver-kubelet-client";

function componentArgs(c: Component, state: ClusterState, p: Pki, kubeconfigs: Record<string, string>): string[] {
  const dir = clusterDir();
  const { ports } = state;
  const kubeletClient = clientCredentials(p, APISERVER_KUBELET_CLIENT, []);
  switch (c) {
    case "etcd":
      return [
        "--name=toolfleet",
        `--data-dir=${join(dir, "etcd")}`,
        `--listen-client-urls=http://127.0.0.1:${ports.etcd}`,
        `--advertise-client-urls=http://127.0.0.1:${ports.etcd}`,
        `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
        `--initial-cluster=toolfleet=http://127.0.0.1:${ports.etcdPeer}`,
        "--quota-backend-bytes=8589934592",
        // A test bed, rebuilt at will: durability is not worth an fsync per write.
        "--unsafe-no-fsync=true",
        "--log-level=warn",
      ];
    case "kube-apiserver":
      return [
        `--etcd-servers=http://127.0.0.1:${ports.etcd}`,
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        // The endpoint reconciler refuses loopback addresses; nothing in-cluster dials the API by Service here.
        "--endpoint-reconciler-type=none",
        `--secure-port=${ports.apiserver}`,
        `--tls-cert-file=${p.servingCert}`,
        `--tls-private-key-file=${p.servingKey}`,
        `--client-ca-file=${p.caCert}`,
        // The Node authorizer lets a real kubelet (local/node/) read only its own pods' objects.
        "--authorization-mode=Node,RBAC",
        `--service-account-issuer=${state.server}`,
        `--service-account-key-file=${p.serviceAccountPub}`,
        `--service-account-signing-key-file=${p.serviceAccountKey}`,
        "--service-cluster-ip-range=10.96.0.0/16",
        // PodNodeSelector and PodTolerationRestriction read namespace annotations only: a
        // namespace opts its pods into the tainted real node; without them nothing changes.
        "--enable-admission-plugins=NodeRestriction,PodNodeSelector,PodTolerationRestriction",
        // How the API server reaches a real kubelet for logs, exec and port-forward.
        `--kubelet-client-certificate=${kubeletClient.cert}`,
        `--kubelet-client-key=${kubeletClient.key}`,
        "--kubelet-preferred-address-types=InternalIP",
        `--cert-dir=${join(dir, "apiserver-certs")}`,
        "--profiling=false",
        `--audit-log-path=${join(dir, "logs", "audit.log")}`,
        `--audit-policy-file=${join(repoRoot(), "local", "cluster", "audit-policy.yaml")}`,
        "--audit-log-maxsize=200",
        "--audit-log-maxbackup=1",
        "--v=1",
      ];
    case "kube-controller-manager":
      return [
        `--kubeconfig=${kubeconfigs.controllerManager}`,
        `--authentication-kubeconfig=${kubeconfigs.controllerManager}`,
        `--authorization-kubeconfig=${kubeconfigs.controllerManager}`,
        "--bind-address=127.0.0.1",
        `--secure-port=${ports.controllerManager}`,
        `--service-account-private-key-file=${p.serviceAccountKey}`,
        `--root-ca-file=${p.caCert}`,
        `--cluster-signing-cert-file=${p.caCert}`,
        `--cluster-signing-key-file=${p.caKey}`,
        "--use-service-account-credentials=true",
        "--leader-elect=false",
        "--concurrent-deployment-syncs=10",
        "--concurrent-replicaset-syncs=10",
        "--concurrent-gc-syncs=20",
        "--kube-api-qps=200",
        "--kube-api-burst=400",
        "--v=1",
      ];
    case "kube-scheduler":
      return [
        `--kubeconfig=${kubeconfigs.scheduler}`,
        `--authentication-kubeconfig=${kubeconfigs.scheduler}`,
        `--authorization-kubeconfig=${kubeconfigs.scheduler}`,
        "--bind-address=127.0.0.1",
        `--secure-port=${ports.scheduler}`,
        "--leader-elect=false",
        "--kube-api-qps=200",
        "--kube-api-burst=400",
        "--v=1",
      ];
    case "kwok":
      return [
        `--kubeconfig=${kubeconfigs.kwok}`,
        "--manage-all-nodes=false",
        "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
        // kwok renews the node's Lease, the heartbeat the node lifecycle controller reads;
        // without it the fake node is marked NotReady every grace period and its pods with it.
        "--node-lease-duration-seconds=40",
        "--node-ip=127.0.0.1",
        `--server-address=127.0.0.1:${ports.kwok}`,
        `--config=${join(repoRoot(), "local", "cluster", "kwok-stages.yaml")}`,
        "--v=INFO",
      ];
  }
}

function startComponent(c: Component, state: ClusterState, p: Pki, kubeconfigs: Record<string, string>): number {
  const out = openSync(logPath(c), "a");
  const child = spawn(join(state.binDir, c), componentArgs(c, state, p, kubeconfigs), {
    detached: true,
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  child.unref();
  if (!child.pid) throw new Error(`could not start ${c}; see ${logPath(c)}`);
  return child.pid;
}

function componentKubeconfigs(state: ClusterState, p: Pki): Record<string, string> {
  const dir = clusterDir();
  const make = (file: string, user: string, groups: string[]) => {
    const path = join(dir, file);
    writeKubeconfig(path, state.server, p.caCert, clientCredentials(p, user, groups));
    return path;
  };
  return {
    controllerManager: make("controller-manager.kubeconfig", "system:kube-controller-manager", []),
    scheduler: make("scheduler.kubeconfig", "system:kube-scheduler", []),
    kwok: make("kwok.kubeconfig", "kwok", ["system:masters"]),
  };
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

const diedMessage = (state: ClusterState, c: Component) => () =>
  alive(state.pids[c]) ? undefined : `${c} exited; the end of ${logPath(c)}:\n${tail(logPath(c))}`;

/** Is a control plane from an earlier start still up and serving? */
export async function runningCluster(): Promise<ClusterState | undefined> {
  const state = readState();
  if (!state) return undefined;
  if (!COMPONENTS.every((c) => alive(state.pids[c]))) return undefined;
  return (await apiGet(state, "/readyz")).status === 200 ? state : undefined;
}

export async function startCluster(): Promise<ClusterState> {
  let running = await runningCluster();
  const earlier = readState();
  if (!running && earlier && COMPONENTS.some((c) => alive(earlier.pids[c]))) {
    // Up but not answering: a component may be restarting (a fault test) or the machine busy.
    // Give it time rather than wiping a control plane that others are using.
    progress("a control plane is running but not ready; waiting for it");
    running = await waitFor("the running control plane to answer", runningCluster, 90_000, 500).catch(() => undefined);
  }
  if (running) {
    progress(`reusing the control plane at ${running.server}`);
    writeAdminKubeconfig(running);
    return running;
  }
  const binDir = ensureBinaries();
  await stopCluster({ keepPki: true, quiet: true });
  mkdirSync(join(clusterDir(), "logs"), { recursive: true });
  const p = pki();
  const port = async () => freePort();
  const ports = {
    etcd: await port(),
    etcdPeer: await port(),
    apiserver: await port(),
    controllerManager: await port(),
    scheduler: await port(),
    kwok: await port(),
  };
  const state: ClusterState = { binDir, server: `https://127.0.0.1:${ports.apiserver}`, ports, pids: {}, startedAt: new Date().toISOString() };
  const kubeconfigs = componentKubeconfigs(state, p);
  const t0 = Date.now();
  const since = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;

  state.pids.etcd = startComponent("etcd", state, p, kubeconfigs);
  writeState(state);
  await waitFor("etcd", () => httpOk(`http://127.0.0.1:${ports.etcd}/health`), 30_000, 200, diedMessage(state, "etcd"));
  progress(`etcd ready on 127.0.0.1:${ports.etcd} (${since()})`);

  state.pids["kube-apiserver"] = startComponent("kube-apiserver", state, p, kubeconfigs);
  writeState(state);
  await waitFor("kube-apiserver", async () => (await apiGet(state, "/readyz")).status === 200, 120_000, 200, diedMessage(state, "kube-apiserver"));
  progress(`kube-apiserver ready at ${state.server} (${since()})`);

  for (const c of ["kube-controller-manager", "kube-scheduler", "kwok"] as const) {
    state.pids[c] = startComponent(c, state, p, kubeconfigs);
  }
  writeState(state);
  writeAdminKubeconfig(state);
  await new Promise((r) => setTimeout(r, 500));
  for (const c of ["kube-controller-manager", "kube-scheduler", "kwok"] as const) {
    const why = diedMessage(state, c)();
    if (why) throw new Error(why);
  }
  progress(`controller-manager, scheduler and kwok started (${since()})`);
  return state;
}

/** Stops one component and starts it again with the same ports and data (for fault tests). */
export async function restartComponent(c: Component): Promise<void> {
  await withLock(clusterLockPath(), () => restartUnlocked(c));
}

async function restartUnlocked(c: Component): Promise<void> {
  const state = readState();
  if (!state) throw new Error("no local control plane is running");
  await stopProcess(state.pids[c]);
  const p = pki();
  state.pids[c] = startComponent(c, state, p, componentKubeconfigs(state, p));
  writeState(state);
  if (c === "kube-apiserver") {
    await waitFor("kube-apiserver", async () => (await apiGet(state, "/readyz")).status === 200, 120_000, 200, diedMessage(state, c));
  }
}

async function stopProcess(pid: number | undefined, graceMs = 10_000): Promise<void> {
  if (!alive(pid)) return;
  process.kill(pid!, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid!, "SIGKILL");
}

/** Stops every component (in reverse order) and removes the state, keeping the PKI if asked. */
export async function stopCluster(opts: { keepPki?: boolean; quiet?: boolean } = {}): Promise<void> {
  const state = readState();
  if (state) {
    for (const c of [...COMPONENTS].reverse()) await stopProcess(state.pids[c]);
  }
  const dir = clusterDir();
  if (existsSync(dir)) {
    for (const entry of ["etcd", "state.json", "logs", "apiserver-certs"]) rmSync(join(dir, entry), { recursive: true, force: true });
    if (!opts.keepPki) rmSync(dir, { recursive: true, force: true });
  }
  if (!opts.keepPki) rmSync(adminKubeconfigPath(), { force: true });
  if (!opts.quiet) progress(state ? "stopped the local control plane and removed its state" : "no local control plane was running");
}

export function writeAdminKubeconfig(state: ClusterState): void {
  writeKubeconfig(adminKubeconfigPath(), state.server, pki().caCert, adminCredentials());
}
