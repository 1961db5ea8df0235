/**
 * The operator assembled: one controller declared as For(McpServer).owns(children), caches
 * warm on every replica, reconciles only on the leader, /metrics /healthz /readyz, and a clean
 * hand-over on stop.
 */
import { Gauge } from "prom-client";
import { reviewersConfigMap } from "../crds/review-policy.js";
import {
  ControllerMetrics,
  CoreTypes,
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
} from "../runtime/index.js";
import { createLogger, type Logger } from "../common/log.js";
import { CHILD_TYPES, slimChild } from "./children.js";
import type { OperatorConfig } from "./config.js";
import { McpServerType, type McpServerObject } from "../mcpserver/type.js";
import { FIELD_MANAGER, MANAGED_SELECTOR } from "../mcpserver/names.js";
import { McpServerReconciler } from "./reconciler.js";
import type { VerificationResult, VerifyOptions } from "./tool-verification.js";
import { TokenRequestSource, type TokenSource } from "./verifier-token.js";
import { KubeReconcilerClient } from "./reconciler-client.js";
import { RevisionIndex } from "./revision-index.js";
import { ControllerRevisionType, slimRevision } from "./revisions.js";
import { resolveAll, type TargetPolicy } from "./verification-target.js";

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

/** The API server as verification must never reach it: the address the operator uses, and the in-cluster Service. */
async function apiServerAddresses(server: string): Promise<TargetPolicy["apiServers"]> {
  const out: TargetPolicy["apiServers"] = [];
  const add = async (host: string, port: number) => {
    try {
      for (const address of await resolveAll(host.replace(/^\[|\]$/g, ""))) out.push({ address, port });
    } catch {
      /* an API server name that does not resolve here cannot be reached by verification either */
    }
  };
  const u = new URL(server);
  await add(u.hostname, Number(u.port || (u.protocol === "https:" ? 443 : 80)));
  const host = process.env.KUBERNETES_SERVICE_HOST;
  if (host) await add(host, Number(process.env.KUBERNETES_SERVICE_PORT ?? 443));
  return out;
}

export async function startOperator(config: OperatorConfig, kc: ConnectionConfig, options: StartOptions = {}): Promise<RunningOperator> {
  const userAgent = options.userAgent ?? config.userAgent;
  const log = options.log ?? createLogger({ component: "toolfleet-operator" }, { level: config.logLevel });
  const client = new KubeClient(kc, { qps: config.apiQps, burst: config.apiBurst, userAgent });
  const eventClient = new KubeClient(kc, { qps: config.eventQps, burst: Math.max(1, Math.ceil(config.eventQps * 2)), userAgent: `${userAgent}-events` });
  const metrics = new ControllerMetrics(undefined, { apiWrites: () => client.writes.count });
  const events = new EventRecorder(eventClient, "toolfleet-operator", log);

  const tokens: TokenSource = new TokenRequestSource(client, config.verifier.serviceAccount, log);
  const targetPolicy: TargetPolicy = { allowPlainHttp: config.verifier.allowPlainHttp, clusterDomain: config.clusterDomain, apiServers: await apiServerAddresses(client.server) };

  let reconciler: McpServerReconciler | undefined;
  let builder = For<McpServerObject>(client, McpServerType).withUpdatePredicate(specOrMetadataChanged);
  // Children are watched without a label selector: an object of someone else's in the way of a
  // child's name must be seen (and refused), not taken over. Such objects keep only their identity.
  for (const type of CHILD_TYPES) builder = builder.owns(type, { transform: slimChild });
  builder = builder.owns(ControllerRevisionType, { labelSelector: MANAGED_SELECTOR, transform: slimRevision });
  const controller = builder.build((req) => reconciler!.reconcile(req), {
    name: "mcpserver",
    concurrency: config.concurrency,
    namespaces: config.namespaces,
    resyncPeriodMs: config.resyncPeriodMs,
    metrics,
    log,
  });
  const revisions = new RevisionIndex(controller.cache<KubeObject>(ControllerRevisionType));
  reconciler = new McpServerReconciler({
    client: new KubeReconcilerClient(client),
    config,
    cache: (type) => controller.cache<KubeObject>(type),
    revisions: (uid) => revisions.of(uid),
    events,
    tokens,
    targetPolicy,
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
      revisions.close();
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
