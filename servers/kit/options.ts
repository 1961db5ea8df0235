/** Everything a kit server is configured with; `optionsFromEnv` builds it for a pod. */
import type { ServiceAccountTokenOptions, UserTokenOptions } from "../../auth/index.js";
import type { AuditSink } from "./audit.js";
import type { Logger } from "./logger.js";
import type { UsageHook } from "./usage/call.js";

export interface KitOptions {
  /** The policy file the operator mounts (JSON). */
  policyFile: string;
  /** 0 picks a free port. */
  port: number;
  host: string;
  /** Where clients reach this server, without the path, e.g. https://presto.data-platform.svc. */
  publicUrl: string;
  auth: {
    /** People; `audience` defaults to the resource URL (publicUrl + the policy's path). */
    users?: Omit<UserTokenOptions, "audience"> & { audience?: string | string[] };
    /** Kubernetes service accounts; `audience` defaults like users'. */
    serviceAccounts?: Omit<ServiceAccountTokenOptions, "audience"> & { audience?: string | string[] };
    cacheSize?: number;
    cacheTtlMs?: number;
  };
  /** Browser origins allowed besides publicUrl's. Requests without Origin are not browsers. */
  allowedOrigins: string[];
  bodyLimitBytes: number;
  elicitationTimeoutMs: number;
  sessionIdleMs: number;
  maxSessions: number;
  activeUserWindowMs: number;
  policyPollMs: number;
  shutdownGraceMs: number;
  audit: AuditSink;
  logger?: Logger;
  /** Node process metrics in /metrics (off in tests and benchmarks that run many servers). */
  processMetrics: boolean;
  /** Usage records for the registry (servers/kit/usage); unset: none. */
  usage?: UsageHook;
}

export const DEFAULTS = {
  port: 8080,
  host: "0.0.0.0",
  allowedOrigins: [] as string[],
  bodyLimitBytes: 1024 * 1024,
  elicitationTimeoutMs: 5 * 60_000,
  sessionIdleMs: 30 * 60_000,
  maxSessions: 1000,
  activeUserWindowMs: 15 * 60_000,
  policyPollMs: 2000,
  shutdownGraceMs: 10_000,
  processMetrics: true,
};
