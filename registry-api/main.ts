/**
 * The registry's entrypoint: `node dist/registry-api/main.js [--flag=value …]`, reading
 * McpServers with the credentials of KUBECONFIG (or the pod's service account). SIGTERM/SIGINT
 * stop it after in-flight requests.
 */
import { KubeConfig } from "@kubernetes/client-node";
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
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const registry = await startRegistry(config, kc, log);
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
  const message = err instanceof RegistryConfigError ? `configuration: ${err.message}` : ((err as Error).stack ?? String(err));
  createLogger({ component: "toolfleet-registry" }).error("registry failed to start", { error: message });
  process.exit(err instanceof RegistryConfigError ? 2 : 1);
});
