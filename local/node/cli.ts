/**
 * The real node from the shell: `node dist/local/node/cli.js up|down|status`. `up` needs the
 * control plane running (make cluster); `status` prints the node's memory, the figure the
 * README quotes.
 */
import { runningNode, nodeMemoryKb, readNodeState, startRealNode, stopRealNode } from "./node.js";

async function main(): Promise<void> {
  switch (process.argv[2]) {
    case "up": {
      const state = await startRealNode();
      process.stderr.write(`[real-node] Ready${state.readySeconds ? ` ${state.readySeconds}s after its start` : ""}; images: ${state.images.join(", ")}\n`);
      return;
    }
    case "down":
      await stopRealNode();
      return;
    case "status": {
      const state = await runningNode();
      if (!state) {
        console.log(readNodeState() ? "stopped or not Ready (stale state)" : "not running");
        process.exitCode = 1;
        return;
      }
      const mem = nodeMemoryKb(state);
      const total = Object.values(mem.components).reduce((a, b) => a + b, 0);
      const parts = Object.entries(mem.components).map(([c, kb]) => `${c} ${Math.round(kb / 1024)} MiB`);
      console.log(`Ready since ${state.startedAt}; resident memory ${Math.round(total / 1024)} MiB (${parts.join(", ")}), shims and pods ${Math.round(mem.shimsAndPods / 1024)} MiB`);
      return;
    }
    default:
      console.error("usage: cli.js up|down|status");
      process.exitCode = 2;
  }
}

main().catch((err: unknown) => {
  console.error(`[real-node] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
