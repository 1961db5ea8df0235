/** The registry's Prometheus metrics: requests by route and status, latency, and the catalog's size. */
import type { NextFunction, Request, Response } from "express";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Catalog } from "./catalog.js";

export class RegistryMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: "toolfleet_registry_http_requests_total",
    help: "HTTP requests by route and status code.",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: "toolfleet_registry_http_request_duration_seconds",
    help: "HTTP request latency by route.",
    labelNames: ["method", "route"] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  constructor(catalog: Catalog, options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: "toolfleet_registry_" });
    new Gauge({
      name: "toolfleet_registry_servers",
      help: "McpServers in the catalog, by whether they are published.",
      labelNames: ["published"] as const,
      registers: [this.registry],
      collect() {
        let published = 0;
        const all = catalog.entries();
        for (const e of all) if (e.published) published++;
        this.set({ published: "true" }, published);
        this.set({ published: "false" }, all.length - published);
      },
    });
  }

  /** Remembers where a router is mounted: express resets req.baseUrl before the response finishes. */
  static mount() {
    return (req: Request, res: Response, next: NextFunction): void => {
      res.locals.mount = req.baseUrl;
      next();
    };
  }

  /** Records each request once it is answered, under its route pattern (never the raw path: unbounded labels). */
  middleware() {
    return (req: Request, res: Response, next: NextFunction): void => {
      const start = process.hrtime.bigint();
      res.once("finish", () => {
        const route = typeof res.locals.route === "string" ? res.locals.route : req.route ? `${String(res.locals.mount ?? req.baseUrl)}${String(req.route.path)}` : "unmatched";
        this.record(req.method, route, res.statusCode, start);
      });
      next();
    };
  }

  /** Counts an answered request and its latency since `start` (process.hrtime.bigint()). */
  record(method: string, route: string, status: number, start: bigint): void {
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    this.requests.inc({ method, route, status: String(status) });
    this.duration.observe({ method, route }, seconds);
  }
}
