/** Everything a kit server is configured with; `optionsFromEnv` builds it for a pod. */
import type { ServiceAccountTokenOptions, UserTokenOptions } from "../../auth/index.js";
import type { AuditSink } from "./audit.js";
import type { UsageHook } from "./usage/call.js";
import type { Logger } from "../../common/log.js";

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
  /** 2025-11-25 sessions one caller may hold at once (2026-07-28 clients hold none). */
  maxSessionsPerCaller: number;
  /**
   * The key every replica of this server shares (at least 32 bytes), sealing session ids and
   * confirmation states so any replica can check them. Unset: a random key, one replica only.
   */
  replicaKey?: string;
  /**
   * This replica's own address as the other replicas reach it (e.g. http://<pod IP>:8080): where
   * they forward the requests of a session or confirmation it issued. Unset: one replica only.
   */
  replicaUrl?: string;
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
  maxSessionsPerCaller: 20,
  activeUserWindowMs: 15 * 60_000,
  policyPollMs: 2000,
  shutdownGraceMs: 10_000,
  processMetrics: true,
};
