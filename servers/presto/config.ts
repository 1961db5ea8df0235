/**
 * The Presto server's backend settings, from the environment its Deployment sets:
 *
 * | variable | meaning | default |
 * |---|---|---|
 * | PRESTO_URL | the coordinator, e.g. http://presto-coordinator:8080 | required |
 * | PRESTO_HEADER_PREFIX | X-Trino (Trino) or X-Presto (PrestoDB, or Trino with the alternate header name) | X-Trino |
 * | PRESTO_CATALOG / PRESTO_SCHEMA | the default catalog and schema of run_query and explain_query | none |
 * | PRESTO_SOURCE | the query source the cluster sees | toolfleet-presto-mcp |
 * | PRESTO_MAX_ROWS | the most rows run_query returns (callers may ask for fewer) | 1000 |
 * | PRESTO_QUERY_TIMEOUT_MS | the longest a statement may run (callers may ask for less) | 60000 |
 * | PRESTO_ACCESS_TOKEN(_FILE) | a bearer token for a secured coordinator | none |
 * | PRESTO_USERNAME + PRESTO_PASSWORD(_FILE) | basic auth for a secured coordinator (https) | none |
 *
 * The coordinator's own principal is the server; each query runs as the calling person (the
 * User header), so the cluster's access control must allow the server to impersonate them.
 */
import { BackendConfigError, type Env, oneOf, optionalString, positiveInt, requiredUrl, secret } from "../kit/index.js";
import type { PrestoClientOptions } from "./client.js";

export interface PrestoServerConfig {
  client: PrestoClientOptions & { url: string };
  maxRows: number;
  timeoutMs: number;
}

export function prestoConfigFromEnv(env: Env = process.env): PrestoServerConfig {
  const url = requiredUrl(env, "PRESTO_URL");
  const prefix = oneOf(env, "PRESTO_HEADER_PREFIX", ["X-Trino", "X-Presto"] as const, "X-Trino");
  const catalog = optionalString(env, "PRESTO_CATALOG");
  const schema = optionalString(env, "PRESTO_SCHEMA");
  if (schema && !catalog) throw new BackendConfigError("PRESTO_SCHEMA", "needs PRESTO_CATALOG: a schema is always within a catalog");
  const token = secret(env, "PRESTO_ACCESS_TOKEN");
  const username = optionalString(env, "PRESTO_USERNAME");
  const password = secret(env, "PRESTO_PASSWORD");
  if (token && username) throw new BackendConfigError("PRESTO_ACCESS_TOKEN", "set a bearer token or PRESTO_USERNAME/PRESTO_PASSWORD, not both");
  if (username && !password) throw new BackendConfigError("PRESTO_PASSWORD", "required with PRESTO_USERNAME (or PRESTO_PASSWORD_FILE)");
  if (password && !username) throw new BackendConfigError("PRESTO_USERNAME", "required with PRESTO_PASSWORD");
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token()}`;
  if (username && password) headers.authorization = `Basic ${Buffer.from(`${username}:${password()}`).toString("base64")}`;
  const maxRows = positiveInt(env, "PRESTO_MAX_ROWS", 1000);
  const timeoutMs = positiveInt(env, "PRESTO_QUERY_TIMEOUT_MS", 60_000);
  return {
    client: {
      url,
      dialect: prefix === "X-Presto" ? "presto" : "trino",
      source: optionalString(env, "PRESTO_SOURCE") ?? "toolfleet-presto-mcp",
      ...(catalog ? { catalog } : {}),
      ...(schema ? { schema } : {}),
      maxRows,
      timeoutMs,
      headers,
    },
    maxRows,
    timeoutMs,
  };
}
