/**
 * `createDomainServer`: what a server team exports. `start()` runs it with the kit's options
 * (from the environment unless given) and returns a handle to stop it gracefully.
 */
import { createServer, type Server as HttpServer } from "node:http";
import { createMcpHandler } from "@modelcontextprotocol/server";
import type { AddressInfo } from "node:net";
import { createAuthenticator, type Authenticator } from "../../auth/index.js";
import { stdoutAuditSink } from "./audit.js";
import { ToolCatalog, type EffectivePolicy } from "./catalog.js";
import { optionsFromEnv } from "./env.js";
import { createKitApp } from "./http.js";
import { KitMetrics } from "./metrics.js";
import { DEFAULTS, type KitOptions } from "./options.js";
import { PolicyStore } from "./policy-store.js";
import { SpentAnswers } from "./confirmation.js";
import { createProtocolServer, type ProtocolDependencies } from "./protocol-server.js";
import { ReplicaSeal } from "./replicas.js";
import { SessionRegistry } from "./sessions.js";
import type { DomainServerDefinition, DomainTool } from "./tool.js";
import { createLogger } from "../../common/log.js";

export interface RunningServer {
  /** http://host:port of the listening socket. */
  url: string;
  port: number;
  metrics: KitMetrics;
  /** Re-reads the policy file now (it is also watched). */
  reloadPolicy(): Promise<void>;
  /** Stops taking requests, lets running calls finish (up to shutdownGraceMs), closes sessions. */
  stop(): Promise<void>;
}

export interface DomainServer {
  readonly name: string;
  readonly version: string;
  readonly tools: readonly DomainTool[];
  start(options?: Partial<KitOptions>): Promise<RunningServer>;
}

export function createDomainServer<const Inputs extends readonly unknown[]>(definition: DomainServerDefinition<Inputs>): DomainServer {
  const tools = definition.tools as unknown as readonly DomainTool[];
  const catalog = new ToolCatalog(tools); // checks the definition at import, not at first call
  return {
    name: definition.name,
    version: definition.version,
    tools,
    start: (options) => startServer(definition, catalog, options),
  };
}

async function startServer(definition: Omit<DomainServerDefinition, "tools">, catalog: ToolCatalog, given: Partial<KitOptions> = {}): Promise<RunningServer> {
  const options = resolveOptions(given);
  const logger = (options.logger ?? createLogger()).child({ server: definition.name });
  const metrics = new KitMetrics(definition.name, options.activeUserWindowMs, { processMetrics: options.processMetrics });
  let effective: EffectivePolicy | undefined;
  let draining = false;

  const seal = new ReplicaSeal(options.replicaKey, options.replicaUrl?.replace(/\/+$/, ""));
  if (options.replicaUrl && !options.replicaKey) {
    logger.warn("TOOLFLEET_REPLICA_KEY is not set: with more than one replica, a 2025-11-25 session or a confirmation answered on another replica is refused (never run); set it from a Secret in spec.workload.env", {
      replicaUrl: options.replicaUrl,
    });
  }
  const protocol: ProtocolDependencies = {
    serverName: definition.name,
    version: definition.version,
    ...(definition.instructions ? { instructions: definition.instructions } : {}),
    catalog,
    metrics,
    audit: options.audit,
    logger,
    elicitationTimeoutMs: options.elicitationTimeoutMs,
    ...(options.usage ? { usage: options.usage } : {}),
    policy: () => effective,
    confirmations: { seal, spent: new SpentAnswers(), ttlMs: options.elicitationTimeoutMs },
  };
  const sessions = new SessionRegistry(protocol, seal, { maxSessions: options.maxSessions, maxSessionsPerCaller: options.maxSessionsPerCaller });
  const modern = createMcpHandler(() => createProtocolServer(protocol, "modern"), {
    legacy: "reject",
    maxRequestBodySize: options.bodyLimitBytes,
    onerror: (err) => logger.debug("2026-07-28 request refused", { error: err }),
  });
  const store = new PolicyStore({
    path: options.policyFile,
    pollMs: options.policyPollMs,
    logger,
    onLoad: (policy) => {
      effective = catalog.apply(policy);
      metrics.policyLoad("loaded");
      if (effective.missing.length) logger.warn("declared tools this server does not implement", { tools: effective.missing });
      if (effective.undeclared.length) logger.warn("implemented tools the policy does not declare: nobody may call them", { tools: effective.undeclared });
      sessions.toolsChanged();
      modern.notify.toolsChanged();
    },
    onInvalid: () => metrics.policyLoad("invalid"),
  });

  // One authenticator per resource URL: the audience follows the policy's path.
  const authenticators = new Map<string, Authenticator>();
  const authenticatorFor = (resource: string): Authenticator => {
    let a = authenticators.get(resource);
    if (!a) {
      const { users, serviceAccounts, cacheSize, cacheTtlMs } = options.auth;
      a = createAuthenticator({
        ...(users ? { users: { ...users, audience: users.audience ?? resource } } : {}),
        ...(serviceAccounts ? { serviceAccounts: { ...serviceAccounts, audience: serviceAccounts.audience ?? resource } } : {}),
        ...(cacheSize !== undefined ? { cacheSize } : {}),
        ...(cacheTtlMs !== undefined ? { cacheTtlMs } : {}),
      });
      authenticators.set(resource, a);
    }
    return a;
  };
  authenticatorFor(`${options.publicUrl}/mcp`); // refuse a bad auth configuration at start

  const publicOrigin = new URL(options.publicUrl).origin;
  const app = createKitApp({
    name: definition.name,
    publicUrl: options.publicUrl.replace(/\/+$/, ""),
    allowedOrigins: new Set([publicOrigin, ...options.allowedOrigins]),
    bodyLimitBytes: options.bodyLimitBytes,
    issuers: options.auth.users ? [options.auth.users.issuer] : [],
    policy: () => effective,
    policyError: () => store.lastError,
    authenticator: authenticatorFor,
    sessions,
    modern,
    seal,
    metrics,
    logger,
    draining: () => draining,
  });

  await store.start();
  await options.usage?.start({ registry: metrics.registry, logger });
  const http: HttpServer = createServer(app);
  http.keepAliveTimeout = 65_000; // longer than common load balancers' idle timeouts
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port, options.host, resolve);
  });
  const port = (http.address() as AddressInfo).port;
  const sweeper = setInterval(() => sessions.closeIdle(options.sessionIdleMs), Math.min(options.sessionIdleMs, 60_000));
  sweeper.unref();
  logger.info("listening", { port, publicUrl: options.publicUrl, policyFile: options.policyFile, ready: effective !== undefined });

  let stopping: Promise<void> | undefined;
  return {
    url: `http://${options.host === "0.0.0.0" ? "127.0.0.1" : options.host}:${port}`,
    port,
    metrics,
    reloadPolicy: () => store.reload(),
    stop: () =>
      (stopping ??= (async () => {
        draining = true;
        logger.info("shutting down: draining sessions", { sessions: sessions.size, requestsInFlight: sessions.requestsInFlight });
        clearInterval(sweeper);
        store.stop();
        const closed = new Promise<void>((resolve) => http.close(() => resolve()));
        await sessions.drain(options.shutdownGraceMs);
        await modern.close();
        http.closeIdleConnections();
        const force = setTimeout(() => http.closeAllConnections(), 1000);
        await closed;
        clearTimeout(force);
        await options.usage?.close();
        logger.info("stopped");
      })()),
  };
}

/** Given the essentials (as tests and embedders do), the environment is not consulted. */
function resolveOptions(given: Partial<KitOptions>): KitOptions {
  const { policyFile, publicUrl, auth } = given;
  if (policyFile && publicUrl && auth) return { ...DEFAULTS, audit: stdoutAuditSink, ...given, policyFile, publicUrl, auth };
  return { ...optionsFromEnv(), ...given };
}
