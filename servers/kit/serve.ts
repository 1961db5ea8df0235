/** Runs a domain server as a process: configuration from the environment, stop on SIGTERM/SIGINT. */
import type { DomainServer } from "./server.js";
import { createLogger } from "../../common/log.js";

export async function serve(server: DomainServer): Promise<void> {
  const logger = createLogger({ server: server.name });
  const running = await server.start();
  let signalled = false;
  const shutdown = (signal: string) => {
    if (signalled) return;
    signalled = true;
    logger.info("signal received", { signal });
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error("shutdown failed", { error: err as Error });
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}
