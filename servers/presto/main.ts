// `node dist/servers/presto/main.js`: the Presto server from its environment (see config.ts and
// servers/kit/env.ts). The backend settings are checked before it listens, so a pod with a bad
// configuration fails at start, naming the variable, instead of failing every call.
import { serve } from "../kit/index.js";
import { prestoConfigFromEnv } from "./config.js";
import { createPrestoServer } from "./server.js";
import { createLogger } from "../../common/log.js";

try {
  await serve(createPrestoServer(prestoConfigFromEnv()));
} catch (err) {
  createLogger({ server: "presto" }).error("cannot start", { error: err as Error });
  process.exit(1);
}
