/**
 * The Spark server's backend settings, from the environment its Deployment sets:
 *
 * | variable | meaning | default |
 * |---|---|---|
 * | SPARK_URL (or SPARK_HISTORY_URL) | a history server (http://history:18080) or a live driver's UI (http://driver:4040): both serve /api/v1 | required |
 * | SPARK_ACCESS_TOKEN(_FILE) | a bearer token, when a proxy in front of the UI asks for one | none |
 * | SPARK_TIMEOUT_MS | the longest one request may take | 30000 |
 */
import { type Env, positiveInt, requiredUrl, secret } from "../kit/index.js";
import type { SparkClientOptions } from "./client.js";

export type SparkServerConfig = SparkClientOptions;

export function sparkConfigFromEnv(env: Env = process.env): SparkServerConfig {
  const url = requiredUrl(env, "SPARK_URL", "SPARK_HISTORY_URL");
  const token = secret(env, "SPARK_ACCESS_TOKEN");
  return { url, timeoutMs: positiveInt(env, "SPARK_TIMEOUT_MS", 30_000), headers: token ? { authorization: `Bearer ${token()}` } : {} };
}
