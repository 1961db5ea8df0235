// `node dist/servers/airflow/main.js`: the Airflow server from its environment (see config.ts
// and servers/kit/env.ts); a bad backend setting fails the start, naming the variable.
import { serve } from "../kit/index.js";
import { airflowConfigFromEnv } from "./config.js";
import { createAirflowServer } from "./server.js";
import { createLogger } from "../../common/log.js";

try {
  await serve(createAirflowServer(airflowConfigFromEnv()));
} catch (err) {
  createLogger({ server: "airflow" }).error("cannot start", { error: err as Error });
  process.exit(1);
}
