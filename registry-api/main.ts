/**
 * The registry's entrypoint: `node dist/registry-api/main.js [--flag=value …]`, reading
 * McpServers with the credentials of KUBECONFIG, ~/.kube/config or the pod's service account
 * (token files are read again as they rotate). SIGTERM/SIGINT
 * stop it after in-flight requests.
 */
import { KubeconfigError, loadConnection } from "../runtime/index.js";
import { loadRegistryConfig, RegistryConfigError, usage } from "./config.js";
import { startRegistry } from "./registry.js";
import { createLogger } from "../common/log.js";

async function main(): Promise<void> {
  if (process.argv.includes("--help")) {
    process.stdout.write(`toolfleet registry: the MCP servers each caller may use.\nFlags (or environment variables):\n${usage()}\n`);
    return;
  }
  const config = loadRegistryConfig();
  const log = createLogger({ component: "toolfleet-registry" }, { level: config.logLevel });
  const registry = await startRegistry(config, loadConnection(), log);
  log.info("serving", { url: registry.url, servers: registry.catalog.entries().length });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping", { signal });
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    registry.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  const configuration = err instanceof RegistryConfigError || err instanceof KubeconfigError;
  const message = configuration ? `configuration: ${(err as Error).message}` : ((err as Error).stack ?? String(err));
  createLogger({ component: "toolfleet-registry" }).error("registry failed to start", { error: message });
  process.exit(configuration ? 2 : 1);
});
