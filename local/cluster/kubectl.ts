/** Runs the control plane's own kubectl, as the admin or as any user in any groups. */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kubeconfigYaml } from "./kubeconfig.js";
import { clientCredentials } from "./pki.js";
import { pki, readState } from "./controlplane.js";
import { adminKubeconfigPath } from "./paths.js";

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlOptions {
  /** Act as this user (a client certificate signed by the cluster CA); the admin when unset. */
  user?: string;
  groups?: string[];
  input?: string;
  allowFailure?: boolean;
}

const userKubeconfigs = new Map<string, string>();

/** A kubeconfig file for `user` in `groups`, written once per process. */
export function userKubeconfigPath(user: string, groups: readonly string[]): string {
  const key = JSON.stringify([user, [...groups].sort()]);
  const known = userKubeconfigs.get(key);
  if (known) return known;
  const state = readState();
  if (!state) throw new Error("the local control plane is not running (make cluster)");
  const p = pki();
  const path = join(mkdtempSync(join(tmpdir(), "toolfleet-user-")), "kubeconfig");
  writeFileSync(path, kubeconfigYaml(state.server, p.caCert, clientCredentials(p, user, groups)), { mode: 0o600 });
  userKubeconfigs.set(key, path);
  return path;
}

export function kubectl(args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> {
  const state = readState();
  if (!state) throw new Error("the local control plane is not running (make cluster)");
  const kubeconfig = opts.user ? userKubeconfigPath(opts.user, opts.groups ?? []) : adminKubeconfigPath();
  return new Promise((resolve, reject) => {
    const child = spawn(join(state.binDir, "kubectl"), [`--kubeconfig=${kubeconfig}`, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const result = { code: code ?? 1, stdout, stderr };
      if (result.code !== 0 && !opts.allowFailure) {
        reject(new Error(`kubectl ${args.join(" ")} failed (${result.code}): ${stderr.trim()}`));
      } else resolve(result);
    });
    child.stdin.end(opts.input ?? "");
  });
}
