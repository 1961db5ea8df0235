/**
 * Helm for the chart's tests and `make` steps: the binary the local control plane's build puts
 * in ~/.cache/toolfleet/ (local/cluster/build-binaries.sh), run against a kubeconfig.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { ensureBinaries } from "../local/cluster/controlplane.js";
import { repoRoot } from "../local/cluster/paths.js";
import { CHART_DIR } from "./generate.js";

export const chartPath = () => join(repoRoot(), CHART_DIR);

let binary: string | undefined;
export function helmBinary(): string {
  binary ??= join(ensureBinaries(), "helm");
  return binary;
}

export interface HelmResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs helm; never throws for a non-zero exit (tests look at what it said). */
export function helm(args: string[], options: { kubeconfig?: string } = {}): Promise<HelmResult> {
  const env = { ...process.env, HELM_CACHE_HOME: join(repoRoot(), ".toolfleet", "helm", "cache"), HELM_CONFIG_HOME: join(repoRoot(), ".toolfleet", "helm", "config"), HELM_DATA_HOME: join(repoRoot(), ".toolfleet", "helm", "data") };
  const withConfig = options.kubeconfig ? [`--kubeconfig=${options.kubeconfig}`, ...args] : args;
  return new Promise((resolve) => {
    execFile(helmBinary(), withConfig, { env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Fails with helm's own words when it did not succeed. */
export async function helmOk(args: string[], options: { kubeconfig?: string } = {}): Promise<string> {
  const r = await helm(args, options);
  if (r.code !== 0) throw new Error(`helm ${args.join(" ")} failed (${r.code}): ${r.stderr || r.stdout}`);
  return r.stdout;
}
