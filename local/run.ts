/**
 * `make run`: the main job on the local control plane. Builds the control plane the first time,
 * starts it (or reuses a running one), installs the API, applies the samples, prints what runs
 * and how to reach it, and stays in the foreground until Ctrl-C, when it stops what it started.
 */
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parse, stringify } from "yaml";
import { readState, runningCluster, stopCluster } from "../test/cluster/controlplane.js";
import { clusterUp } from "../test/cluster/cli.js";
import { kubectl } from "../test/cluster/kubectl.js";
import { adminKubeconfigPath, repoRoot } from "../test/cluster/paths.js";

export const SAMPLE_NAMESPACE = "data-platform";

const say = (line: string) => process.stdout.write(`[run] ${line}\n`);

async function applySamples(): Promise<string[]> {
  const dir = join(repoRoot(), "crds", "samples");
  const names: string[] = [];
  await kubectl(["apply", "--server-side", "--field-manager=toolfleet-run", "-f", "-"], {
    input: stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: SAMPLE_NAMESPACE } }),
  });
  for (const file of ["presto.yaml", "spark.yaml", "airflow.yaml"]) {
    const manifest = parse(readFileSync(join(dir, file), "utf8")) as { metadata: { name: string } };
    await kubectl(["apply", "--server-side", "--field-manager=toolfleet-run", "-f", "-"], { input: stringify(manifest) });
    names.push(manifest.metadata.name);
  }
  return names;
}

async function main(): Promise<void> {
  const reused = Boolean(await runningCluster());
  await clusterUp();
  const samples = await applySamples();
  const kubeconfig = relative(process.cwd(), adminKubeconfigPath());
  say(`local control plane: ${reused ? "reused the running one" : "started"}; McpServers applied in ${SAMPLE_NAMESPACE}: ${samples.join(", ")}`);
  say("see them with:");
  say(`  KUBECONFIG=${kubeconfig} kubectl get mcps -A`);
  say(`(a kubectl of the cluster's version: ${join(readState()?.binDir ?? "", "kubectl")})`);
  say("running; Ctrl-C stops it");

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      say(`${signal}: stopping`);
      if (!reused) stopCluster();
      else say("left the control plane running, as it was before (make cluster-down stops it)");
      resolve();
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
}

main().catch((err: unknown) => {
  console.error(`[run] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
