/**
 * The operator's entrypoint: `node dist/operator/main.js [--flag=value …]`, with the API server
 * credentials of KUBECONFIG (or the pod's service account in a cluster). SIGTERM/SIGINT stop
 * it cleanly and hand the lease over.
 */
import { loadConfig, OperatorConfigError, usage } from "./config.js";
import { startOperator } from "./operator.js";
import { KubeconfigError, loadConnection } from "../runtime/index.js";
import { createLogger } from "../common/log.js";

async function main(): Promise<void> {
  if (process.argv.includes("--help")) {
    process.stdout.write(`toolfleet operator: reconciles McpServers.\nFlags (or environment variables):\n${usage()}\n`);
    return;
  }
  const config = loadConfig();
  const log = createLogger({ component: "toolfleet-operator" }, { level: config.logLevel });
  const operator = await startOperator(config, loadConnection(), { log });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping", { signal });
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    operator.stop().then(
      () => process.exit(0),
      (err: Error) => {
        log.error("unclean stop", { error: err.message });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  const known = err instanceof OperatorConfigError || err instanceof KubeconfigError;
  const message = known ? `configuration: ${(err as Error).message}` : (err as Error).stack ?? String(err);
  createLogger({ component: "toolfleet-operator" }).error("operator failed to start", { error: message });
  process.exit(known ? 2 : 1);
});
