/**
 * `make cluster` (up) and `make cluster-down` (down): the local control plane from the shell.
 * `up` returns once the API server answers and Toolfleet's API is installed; with
 * `--real-node` (or TOOLFLEET_REAL_NODE=1) also once the real node is Ready. `down` stops the
 * real node too, if this checkout runs one.
 */
import { clusterLockPath, readState, runningCluster, startCluster, stopCluster } from "./controlplane.js";
import { installToolfleetApi } from "./install.js";
import { withLock } from "./lock.js";
import { adminKubeconfigPath } from "./paths.js";
import { relative } from "node:path";
import { startRealNode, stopRealNode } from "../node/node.js";

export async function clusterUp(): Promise<void> {
  const state = await withLock(clusterLockPath(), async () => {
    const started = await startCluster();
    await installToolfleetApi();
    return started;
  });
  const kubeconfig = relative(process.cwd(), adminKubeconfigPath()) || adminKubeconfigPath();
  process.stderr.write(`[cluster] API server ${state.server}; admin kubeconfig ${kubeconfig}\n`);
}

async function main(): Promise<void> {
  const command = process.argv[2];
  switch (command) {
    case "up":
      await clusterUp();
      if (process.argv.includes("--real-node") || process.env.TOOLFLEET_REAL_NODE === "1") await startRealNode();
      return;
    case "down":
      await stopRealNode({ quiet: true });
      await stopCluster();
      return;
    case "status": {
      const running = await runningCluster();
      console.log(running ? `running at ${running.server} since ${running.startedAt}` : readState() ? "stopped (stale state)" : "not running");
      process.exitCode = running ? 0 : 1;
      return;
    }
    default:
      console.error("usage: cli.js up [--real-node]|down|status");
      process.exitCode = 2;
  }
}

if (process.argv[1]?.endsWith("cli.js")) {
  main().catch((err: unknown) => {
    console.error(`[cluster] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
