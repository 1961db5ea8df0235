/**
 * Starts a domain server from its definition module, whose default export is
 * `createDomainServer(...)`:  node dist/servers/kit/main.js dist/servers/presto/server.js
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { serve } from "./serve.js";
import type { DomainServer } from "./server.js";
import { createLogger } from "../../common/log.js";

function isDomainServer(x: unknown): x is DomainServer {
  return typeof x === "object" && x !== null && typeof (x as DomainServer).start === "function" && typeof (x as DomainServer).name === "string";
}

const file = process.argv[2];
const logger = createLogger({ component: "kit-main" });
if (!file) {
  logger.error("usage: main.js <definition module whose default export is createDomainServer(...)>");
  process.exit(2);
}
try {
  const module = (await import(pathToFileURL(resolve(file)).href)) as { default?: unknown };
  if (!isDomainServer(module.default)) throw new Error(`${file} must export default createDomainServer({ name, version, tools })`);
  await serve(module.default);
} catch (err) {
  logger.error("cannot start", { error: err as Error });
  process.exit(1);
}
