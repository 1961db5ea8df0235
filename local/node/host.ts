/**
 * What the real node changes on the machine itself, and how it is put back: the CNI bridge,
 * two sysctls, the iptables chains and ipsets of kubelet, kube-proxy and kube-router, kube-
 * proxy's nftables tables, the `kubepods` cgroups, mounts under the node's folder, and the
 * few fixed paths kubelet and containerd use whatever they are told. Before the node starts,
 * a snapshot records what existed, so the way down removes only what the node made.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BRIDGE, NODE_IP, POD_CIDR } from "./config.js";

/** Paths kubelet, containerd or the CNI library use regardless of their configuration. */
export const FIXED_PATHS = ["/var/lib/kubelet", "/var/log/containers", "/var/log/pods", "/run/containerd", "/run/nri", "/var/lib/cni", "/run/netns"];
const IP_FORWARD = "/proc/sys/net/ipv4/ip_forward";
const BRIDGE_NF_IPTABLES = "/proc/sys/net/bridge/bridge-nf-call-iptables";
const SYSCTLS = [IP_FORWARD, BRIDGE_NF_IPTABLES];

export interface HostSnapshot {
  sysctls: Record<string, string>;
  /** Which of FIXED_PATHS existed before the node started (those are left alone). */
  existed: string[];
  /** nftables tables before the node started ("ip filter", ...): iptables makes its own on first use. */
  nftTables?: string[];
}

function nftTables(): string[] {
  return run("nft", ["list", "tables"])
    .out.split("\n")
    .map((l) => l.replace(/^table\s+/, "").trim())
    .filter(Boolean);
}

const readTrim = (path: string) => readFileSync(path, "utf8").trim();

function run(cmd: string, args: string[], input?: string): { ok: boolean; out: string; err: string } {
  const r = spawnSync(cmd, args, { input, encoding: "utf8" });
  return { ok: r.status === 0, out: r.stdout ?? "", err: r.stderr ?? "" };
}

export function snapshotHost(): HostSnapshot {
  const sysctls: Record<string, string> = {};
  for (const s of SYSCTLS) if (existsSync(s)) sysctls[s] = readTrim(s);
  return { sysctls, existed: FIXED_PATHS.filter((p) => existsSync(p)), nftTables: nftTables() };
}

/** Which system programs the node needs are missing (installed by `make system-deps`). */
export function missingSystemPrograms(): string[] {
  const need: Record<string, string> = {
    runc: "/usr/sbin/runc",
    "containernetworking-plugins": "/usr/lib/cni/bridge",
    ipset: "/usr/sbin/ipset",
    iptables: "/usr/sbin/iptables",
    nftables: "/usr/sbin/nft",
    conntrack: "/usr/sbin/conntrack",
  };
  return Object.entries(need)
    .filter(([, path]) => !existsSync(path))
    .map(([pkg]) => pkg);
}

/**
 * The bridge exists before the kubelet starts, with the gateway address: that address is the
 * node's (the kubelet serves on it), so it must be on an interface already. The bridge plugin
 * takes the existing bridge over.
 */
export function prepareHost(): void {
  if (!existsSync(`/sys/class/net/${BRIDGE}`)) {
    execFileSync("ip", ["link", "add", BRIDGE, "type", "bridge"]);
  }
  const addrs = run("ip", ["-4", "addr", "show", "dev", BRIDGE]).out;
  if (!addrs.includes(`${NODE_IP}/`)) execFileSync("ip", ["addr", "add", `${NODE_IP}/${POD_CIDR.split("/")[1]}`, "dev", BRIDGE]);
  execFileSync("ip", ["link", "set", BRIDGE, "up"]);
  // Pods reach the world and each other's Services through the host; bridged traffic goes
  // through iptables so that kube-router's NetworkPolicy rules see pod-to-pod packets.
  writeFileSync(IP_FORWARD, "1");
  if (existsSync(BRIDGE_NF_IPTABLES)) writeFileSync(BRIDGE_NF_IPTABLES, "1");
}

/** Every pid in a cgroup folder and its children (cgroup v1: every hierarchy has its own tree). */
function cgroupPids(dir: string): number[] {
  const pids: number[] = [];
  const walk = (d: string) => {
    try {
      for (const line of readFileSync(join(d, "cgroup.procs"), "utf8").split("\n")) if (line.trim()) pids.push(Number(line));
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    } catch {
      /* gone meanwhile */
    }
  };
  walk(dir);
  return pids;
}

const CGROUP_ROOT = "/sys/fs/cgroup";
function kubepodsDirs(): string[] {
  if (!existsSync(CGROUP_ROOT)) return [];
  return readdirSync(CGROUP_ROOT)
    .map((h) => join(CGROUP_ROOT, h, "kubepods"))
    .filter((d) => existsSync(d));
}

/** Kills every process left in the pods' cgroups (the containers outlive their shims). */
export function killPodProcesses(): void {
  const pids = new Set(kubepodsDirs().flatMap(cgroupPids));
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  }
}

/** Removes the kubepods cgroups, leaves first (a cgroup folder goes only once it is empty). */
function removeCgroups(): string[] {
  const left: string[] = [];
  const remove = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) remove(join(d, e.name));
    try {
      rmdirSync(d);
    } catch {
      left.push(d);
    }
  };
  for (const d of kubepodsDirs()) remove(d);
  return left;
}

/** Unmounts everything mounted under `dir`, deepest first. */
export function unmountUnder(dir: string): void {
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(`${dir}/`)))
    .map((m) => m.replace(/\\040/g, " "))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) run("umount", ["-l", m]);
}

const OWN_CHAIN = /^KUBE-/;

/**
 * An iptables-save dump without the node's KUBE-* chains, the rules in them and the rules
 * elsewhere that jump to them; everything else (the machine's own rules) is kept as it was.
 */
export function withoutNodeChains(dump: string): string {
  return dump
    .split("\n")
    .filter((line) => {
      if (line.startsWith(":")) return !OWN_CHAIN.test(line.slice(1));
      if (line.startsWith("-A ")) {
        const chain = line.split(" ")[1] ?? "";
        const target = /\s-[jg]\s+(\S+)/.exec(line)?.[1] ?? "";
        return !OWN_CHAIN.test(chain) && !OWN_CHAIN.test(target);
      }
      return true;
    })
    .join("\n");
}

function removeIptablesChains(save: string, restore: string): void {
  const saved = run(save, []);
  if (!saved.ok || !/KUBE-/.test(saved.out)) return;
  const r = run(restore, [], withoutNodeChains(saved.out));
  if (!r.ok) throw new Error(`${restore} failed while removing the node's chains: ${r.err.trim()}`);
}

/** ipsets kube-router made for NetworkPolicies (its names start with KUBE- or kube-router). */
function removeIpsets(): void {
  const list = run("ipset", ["list", "-n"]);
  if (!list.ok) return;
  for (const name of list.out.split("\n").map((s) => s.trim())) {
    if (/^(inet6:)?(KUBE-|kube-router)/.test(name)) run("ipset", ["destroy", name]);
  }
}

/**
 * Puts the machine back as the snapshot found it. Runs after every node process has stopped;
 * each step is idempotent, so a second run (after a crash half way) finishes the job.
 * Returns what could not be removed, for the caller to report.
 */
export function restoreHost(snapshot: HostSnapshot | undefined, nodeDir: string): string[] {
  const problems: string[] = [];
  killPodProcesses();
  unmountUnder(nodeDir);
  const leftCgroups = removeCgroups();
  if (leftCgroups.length) problems.push(`cgroups still in use: ${leftCgroups.slice(0, 3).join(", ")}`);
  if (existsSync(`/sys/class/net/${BRIDGE}`)) run("ip", ["link", "del", BRIDGE]);
  // Any veth left by a pod whose network namespace is gone with it disappears by itself.
  for (const [save, restore] of [["iptables-save", "iptables-restore"], ["ip6tables-save", "ip6tables-restore"]] as const) {
    try {
      removeIptablesChains(save, restore);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  for (const family of ["ip", "ip6"]) run("nft", ["delete", "table", family, "kube-proxy"]);
  // The tables iptables made for the node's chains, now empty of them, unless they were there before.
  if (snapshot?.nftTables) {
    const before = new Set(snapshot.nftTables);
    for (const table of nftTables()) {
      const [family, name] = table.split(/\s+/);
      if (!before.has(table) && family && name && ["filter", "nat", "mangle", "raw"].includes(name)) run("nft", ["delete", "table", family, name]);
    }
  }
  removeIpsets();
  for (const [path, value] of Object.entries(snapshot?.sysctls ?? {})) {
    try {
      writeFileSync(path, value);
    } catch (err) {
      problems.push(`${path}: ${(err as Error).message}`);
    }
  }
  const existed = new Set(snapshot?.existed ?? FIXED_PATHS);
  for (const p of FIXED_PATHS) {
    if (existed.has(p) || !existsSync(p)) continue;
    unmountUnder(p);
    rmSync(p, { recursive: true, force: true });
  }
  return problems;
}
