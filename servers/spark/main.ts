// `node dist/servers/spark/main.js`: the Spark server from its environment (see config.ts and
// servers/kit/env.ts); a bad backend setting fails the start, naming the variable.
import { serve } from "../kit/index.js";
import { sparkConfigFromEnv } from "./config.js";
import { createSparkServer } from "./server.js";
import { createLogger } from "../../common/log.js";

try {
  await serve(createSparkServer(sparkConfigFromEnv()));
} catch (err) {
  createLogger({ server: "spark" }).error("cannot start", { error: err as Error });
  process.exit(1);
}
