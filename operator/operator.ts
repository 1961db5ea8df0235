/**
 * The operator assembled: one controller declared as For(McpServer).owns(children), caches
 * warm on every replica, reconciles only on the leader, /metrics /healthz /readyz, and a clean
 * hand-over on stop.
 */
import { existsSync } from "node:fs";
import { Gauge } from "prom-client";
import { reviewersConfigMap } from "../crds/review-policy.js";
import {
  ControllerMetrics,
  CoreTypes,
  createLogger,
  EventRecorder,
  For,
  KubeClient,
  LeaderElector,
  specOrMetadataChanged,
  startHealthServer,
  type ConnectionConfig,
  type Controller,
  type HealthServer,
  type KubeObject,
  type Logger,
} from "../runtime/index.js";
import { CHILD_TYPES, slimChild } from "./children.js";
import type { OperatorConfig } from "./config.js";
import { McpServerType, type McpServerObject } from "../mcpserver/type.js";
import { FIELD_MANAGER, MANAGED_SELECTOR } from "../mcpserver/names.js";
import { McpServerReconciler } from "./reconciler.js";
import type { VerificationResult, VerifyOptions } from "./tool-verification.js";
import { FileTokenSource, TokenRequestSource, type TokenSource } from "./verifier-token.js";

export interface RunningOperator {
  controller: Controller<McpServerObject>;
  client: KubeClient;
  metrics: ControllerMetrics;
  health: HealthServer;
  isLeader(): boolean;
  /** Resolves when this replica starts reconciling. */
  leading: Promise<void>;
  /** Stops reconciling, releases the lease, closes everything. */
  stop(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  /** Called if the lease is lost (reconciling is already paused; the replica campaigns again). */
  onLostLeadership?: () => void;
  verify?: (options: VerifyOptions) => Promise<VerificationResult>;
  /** Tells this replica's requests apart in the API server's audit log (default: config.userAgent). */
  userAgent?: string;
}

const IN_CLUSTER_TOKEN = "/var/run/secrets/tokens/toolfleet-verifier";

export async function startOperator(config: OperatorConfig, kc: ConnectionConfig, options: StartOptions = {}): Promise<RunningOperator> {
  const userAgent = options.userAgent ?? config.userAgent;
  const log = options.log ?? createLogger({ component: "toolfleet-operator" }, { level: config.logLevel });
  const client = new KubeClient(kc, { qps: config.apiQps, burst: config.apiBurst, userAgent });
  const eventClient = new KubeClient(kc, { qps: config.eventQps, burst: Math.max(1, Math.ceil(config.eventQps * 2)), userAgent: `${userAgent}-events` });
  const metrics = new ControllerMetrics(undefined, { apiWrites: () => client.writes.count });
  const events = new EventRecorder(eventClient, "toolfleet-operator", log);

  const tokenFile = config.verifier.tokenFile ?? (existsSync(IN_CLUSTER_TOKEN) ? IN_CLUSTER_TOKEN : undefined);
  const tokens: TokenSource = tokenFile ? new FileTokenSource(tokenFile) : new TokenRequestSource(client, config.verifier.serviceAccount, log);

  let reconciler: McpServerReconciler | undefined;
  let builder = For<McpServerObject>(client, McpServerType).withUpdatePredicate(specOrMetadataChanged);
  for (const type of CHILD_TYPES) builder = builder.owns(type, { labelSelector: MANAGED_SELECTOR, transform: slimChild });
  const controller = builder.build((req) => reconciler!.reconcile(req), {
    name: "mcpserver",
    concurrency: config.concurrency,
    namespaces: config.namespaces,
    resyncPeriodMs: config.resyncPeriodMs,
    metrics,
    log,
  });
  reconciler = new McpServerReconciler({
    client,
    config,
    cache: (type) => controller.cache<KubeObject>(type),
    events,
    tokens,
    verify: options.verify,
    requeue: (key) => controller.queue.add(key),
  });

  new Gauge({
    name: "toolfleet_mcpservers",
    help: "McpServers by phase, as this replica's cache sees them.",
    labelNames: ["phase"],
    registers: [metrics.registry],
    collect() {
      this.reset();
      const counts = new Map<string, number>();
      for (const s of controller.primary.list()) counts.set(s.status?.phase ?? "New", (counts.get(s.status?.phase ?? "New") ?? 0) + 1);
      for (const [phase, n] of counts) this.set({ phase }, n);
    },
  });

  controller.startInformers();
  const health = await startHealthServer(metrics.registry, { healthy: () => controller.healthy(), ready: () => controller.hasSynced() }, config.metricsPort, config.metricsHost);
  log.info("started", { metricsPort: health.port, namespaces: config.namespaces.length ? config.namespaces : "all", requiredReviews: config.requiredReviews });

  let markLeading: () => void = () => {};
  const leading = new Promise<void>((resolve) => (markLeading = resolve));
  const begin = async () => {
    metrics.isLeader.set(1);
    await controller.waitForSync(120_000);
    if (config.manageReviewerGroups) {
      await client.apply(CoreTypes.ConfigMap, reviewersConfigMap(config.reviewerGroups) as KubeObject, { fieldManager: FIELD_MANAGER, force: true });
    }
    await controller.runWorkers();
    markLeading();
  };

  let elector: LeaderElector | undefined;
  let leaseClient: KubeClient | undefined;
  if (config.leaderElection.enabled) {
    // Its own client: renewals must never wait behind a queue of reconcile requests.
    leaseClient = new KubeClient(kc, { qps: 5, burst: 10, userAgent: `${userAgent}-leader-election`, timeoutMs: 5_000 });
    elector = new LeaderElector(leaseClient, { ...config.leaderElection, log });
    elector.start({
      onStartedLeading: () => void begin().catch((err: Error) => log.error("could not start reconciling", { error: err.message })),
      onStoppedLeading: () => {
        metrics.isLeader.set(0);
        void controller.pauseWorkers();
        (options.onLostLeadership ?? (() => log.warn("lost leadership; paused reconciling until this replica leads again")))();
      },
    });
  } else await begin();

  let stopped = false;
  return {
    controller,
    client,
    metrics,
    health,
    leading,
    isLeader: () => (elector ? elector.isLeader : true),
    async stop() {
      if (stopped) return;
      stopped = true;
      await controller.stop();
      await events.flush();
      await elector?.stop();
      await health.close();
      client.close();
      eventClient.close();
      leaseClient?.close();
      log.info("stopped");
    },
  };
}
