/**
 * The Airflow server's backend settings, from the environment its Deployment sets:
 *
 * | variable | meaning | default |
 * |---|---|---|
 * | AIRFLOW_URL | the Airflow 3 API server, e.g. http://airflow-api:8080 | required |
 * | AIRFLOW_USERNAME | the account the server signs in as at /auth/token | required |
 * | AIRFLOW_PASSWORD(_FILE) | its password (a secretKeyRef, or a mounted Secret file) | required |
 * | AIRFLOW_TIMEOUT_MS | the longest one request may take | 30000 |
 *
 * Airflow sees that account; the person who asked is recorded in the note of each run the
 * server triggers, and in the kit's audit log for every call.
 */
import { BackendConfigError, type Env, optionalString, positiveInt, requiredUrl, secret } from "../kit/index.js";
import type { AirflowClientOptions } from "./client.js";

export type AirflowServerConfig = AirflowClientOptions;

export function airflowConfigFromEnv(env: Env = process.env): AirflowServerConfig {
  const url = requiredUrl(env, "AIRFLOW_URL");
  const username = optionalString(env, "AIRFLOW_USERNAME");
  if (!username) throw new BackendConfigError("AIRFLOW_USERNAME", "required: the account this server signs in to Airflow as");
  const password = secret(env, "AIRFLOW_PASSWORD");
  if (!password) throw new BackendConfigError("AIRFLOW_PASSWORD", "required (or AIRFLOW_PASSWORD_FILE): the password of AIRFLOW_USERNAME");
  return { url, username, password: password(), timeoutMs: positiveInt(env, "AIRFLOW_TIMEOUT_MS", 30_000) };
}
