/** The controller runtime's Prometheus metrics, in a registry of their own. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class ControllerMetrics {
  readonly registry: Registry;
  readonly reconciles: Counter<"controller" | "result">;
  readonly reconcileDuration: Histogram<"controller">;
  readonly queueDepth: Gauge<"controller">;
  readonly watchRestarts: Counter<"resource" | "reason">;
  readonly isLeader: Gauge;
  readonly apiWrites: Gauge;

  constructor(registry = new Registry(), options: { defaultMetrics?: boolean; apiWrites?: () => number } = {}) {
    this.registry = registry;
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: "toolfleet_operator_" });
    this.reconciles = new Counter({
      name: "toolfleet_reconcile_total",
      help: "Reconciles by controller and result (success, requeue, error, terminal_error).",
      labelNames: ["controller", "result"],
      registers: [registry],
    });
    this.reconcileDuration = new Histogram({
      name: "toolfleet_reconcile_duration_seconds",
      help: "How long one reconcile takes.",
      labelNames: ["controller"],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    this.queueDepth = new Gauge({
      name: "toolfleet_workqueue_depth",
      help: "Keys waiting in the work queue.",
      labelNames: ["controller"],
      registers: [registry],
    });
    this.watchRestarts = new Counter({
      name: "toolfleet_watch_restarts_total",
      help: "Watch restarts by resource and reason (gone: relisted after 410; error: retried after a failure).",
      labelNames: ["resource", "reason"],
      registers: [registry],
    });
    this.isLeader = new Gauge({ name: "toolfleet_leader", help: "1 while this replica holds the leader lease.", registers: [registry] });
    const writes = options.apiWrites;
    this.apiWrites = new Gauge({
      name: "toolfleet_api_writes",
      help: "Mutating API requests this process has sent.",
      registers: [registry],
      collect() {
        if (writes) this.set(writes());
      },
    });
  }
}
