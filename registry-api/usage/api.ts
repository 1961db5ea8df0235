/**
 * Mounts the usage API on the registry's app: ingest (large batches, service accounts only),
 * the admins' caller look-up, impact and feedback. Each is its own mount so their body limits
 * differ from the rest of /api/v1 and nothing else of the app changes.
 */
import express, { type Express, type RequestHandler } from "express";
import type { Catalog } from "../catalog.js";
import { callerRoute } from "./caller-route.js";
import { feedbackRoute } from "./feedback-route.js";
import { impactRoute } from "./impact-route.js";
import { ingestRoute } from "./ingest-route.js";
import type { UsageStore } from "./store.js";

export interface UsageApiDeps {
  catalog: Catalog;
  store: UsageStore;
  /** The app's bearer-token authentication (never the UI's cookie). */
  authenticate: RequestHandler;
  /** The metrics route labeller, as the other mounts use it. */
  mount: RequestHandler;
}

export function mountUsageApi(app: Express, deps: UsageApiDeps): void {
  // 1000 records of ~350 bytes each.
  app.use("/api/v1/usage", deps.mount, express.json({ limit: "1mb", strict: true }), deps.authenticate, ingestRoute(deps.catalog, deps.store), callerRoute(deps.store));
  app.use("/api/v1/impact", deps.mount, deps.authenticate, impactRoute(deps.catalog, deps.store));
  app.use("/api/v1/feedback", deps.mount, express.json({ limit: "16kb", strict: true }), deps.authenticate, feedbackRoute(deps.catalog, deps.store));
}
