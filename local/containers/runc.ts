/**
 * Runs an image from an OCI archive as a real container with runc, the way a kubelet would
 * start it: `umoci unpack` into a bundle, then the bundle's config.json adjusted as a pod's
 * security context would (the image's non-root user, a read-only root, no capabilities, a
 * tmpfs /tmp), the host's network (this machine has no CNI), and the test's mounts, env and
 * args. runc, umoci and skopeo come from `make system-deps`.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface ContainerOptions {
  /** The OCI archive (`dist/images/<name>.oci.tar`) and the tag in its index.json. */
  archive: string;
  tag: string;
  /** Where bundles and logs go (removed bundle by bundle on stop). */
  workDir: string;
  /** Replaces the image's arguments after its entrypoint (Kubernetes `args`). */
  args?: string[];
  env?: Record<string, string>;
  /** Read-only bind mounts: container path → host path. */
  mounts?: Record<string, string>;
}

export interface RunningContainer {
  id: string;
  /** The unpacked root file system (for looking at what the image holds). */
  rootfs: string;
  logPath: string;
  logs(): string;
  /** Resolves with runc's exit code once the container's process ends. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

interface RuntimeSpec {
  process: { terminal: boolean; user: { uid: number; gid: number }; args: string[]; env: string[]; capabilities?: unknown; noNewPrivileges?: boolean };
  root: { path: string; readonly?: boolean };
  mounts: Array<{ destination: string; type: string; source: string; options: string[] }>;
  linux: { namespaces: Array<{ type: string }> };
}

/** Why runc cannot run a container on this machine, or undefined when it can. */
export function runcUnavailable(): string | undefined {
  for (const tool of ["runc", "umoci"]) {
    try {
      execFileSync(tool, ["--version"], { stdio: "ignore" });
    } catch {
      return `${tool} is not installed (make system-deps installs Debian's runc and umoci)`;
    }
  }
  if (process.getuid?.() !== 0) return "runc needs root here (no rootless setup on this machine)";
  return undefined;
}

/** Unpacks `archive` once per call into a fresh bundle under `workDir`. */
export function unpackImage(archive: string, tag: string, workDir: string): string {
  const dir = join(workDir, `bundle-${randomBytes(4).toString("hex")}`);
  const layout = join(dir, "layout");
  mkdirSync(layout, { recursive: true });
  execFileSync("tar", ["-xf", archive, "-C", layout]);
  execFileSync("umoci", ["unpack", "--image", `${layout}:${tag}`, join(dir, "bundle")], { stdio: ["ignore", "ignore", "pipe"] });
  rmSync(layout, { recursive: true, force: true });
  return dir;
}

export function runContainer(options: ContainerOptions): RunningContainer {
  const dir = unpackImage(options.archive, options.tag, options.workDir);
  const bundle = join(dir, "bundle");
  const configPath = join(bundle, "config.json");
  const spec = JSON.parse(readFileSync(configPath, "utf8")) as RuntimeSpec;
  spec.process.terminal = false;
  // The images have an entrypoint and no Cmd: the arguments are the entrypoint (node, its flags, the program).
  const entrypoint = spec.process.args;
  if (options.args) spec.process.args = [...entrypoint, ...options.args];
  spec.process.env = [...spec.process.env, ...Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`)];
  spec.process.capabilities = { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] };
  spec.process.noNewPrivileges = true;
  spec.root.readonly = true;
  spec.linux.namespaces = spec.linux.namespaces.filter((n) => n.type !== "network");
  spec.mounts.push({ destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=1777", "size=64m"] });
  for (const [destination, source] of Object.entries(options.mounts ?? {})) {
    spec.mounts.push({ destination, type: "bind", source, options: ["rbind", "ro"] });
  }
  writeFileSync(configPath, JSON.stringify(spec, null, 2));

  const id = `toolfleet-${randomBytes(5).toString("hex")}`;
  const logPath = join(dir, "container.log");
  const out = openSync(logPath, "a");
  const child: ChildProcess = spawn("runc", ["run", "--bundle", bundle, id], { stdio: ["ignore", out, out] });
  closeSync(out);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  let stopped: Promise<void> | undefined;
  return {
    id,
    rootfs: join(bundle, "rootfs"),
    logPath,
    logs: () => readFileSync(logPath, "utf8"),
    exited,
    stop: () =>
      (stopped ??= (async () => {
        try {
          execFileSync("runc", ["kill", id, "KILL"], { stdio: "ignore" });
        } catch {
          /* already gone */
        }
        await exited;
        try {
          execFileSync("runc", ["delete", "--force", id], { stdio: "ignore" });
        } catch {
          /* deleted with its process */
        }
        rmSync(join(bundle), { recursive: true, force: true });
      })()),
  };
}
