/**
 * A small controller runtime on the Kubernetes API, knowing nothing of any custom resource:
 * informers (list + watch cache), a work queue, controllers declared as For(...).owns(...),
 * server-side apply through one client, finalizers, conditions, leader election, metrics,
 * health endpoints, and command-line flags.
 */
export * from "./objects.js";
export * from "./kube-client.js";
export * from "./kubeconfig.js";
export * from "./informer.js";
export * from "./work-queue.js";
export * from "./controller.js";
export * from "./leader-election.js";
export * from "./conditions.js";
export * from "./finalizer.js";
export * from "./events.js";
export * from "./metrics.js";
export * from "./health-server.js";
export * from "./backoff.js";
export * from "./rate-limiter.js";
export * from "./subset.js";
export * from "./flags.js";
