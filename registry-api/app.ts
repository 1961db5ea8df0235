/**
 * The registry's HTTP surface as an express app: the official registry API under /v0.1 and
 * /v0, the access check, the web UI, OpenAPI, metrics and health. Everything it serves comes
 * from the catalog; nothing is stored.
 */
import express, { type NextFunction, type Request, type Response } from "express";
import type { Authenticator } from "../auth/index.js";
import type { RequestListener } from "node:http";
import { ACCESS_BODY, accessRoutes } from "./access-routes.js";
import { createAuthn } from "./authn.js";
import type { Catalog } from "./catalog.js";
import { refusalOf } from "./errors.js";
import { withHotPaths } from "./hot-paths.js";
import { RegistryMetrics } from "./metrics.js";
import { openApiDocument } from "./openapi.js";
import { registryRoutes } from "./registry-routes.js";
import { ResponseRenderer } from "./server-response.js";
import { ServerListPages } from "./server-list.js";
import { oidcSignIn } from "./ui/oidc-sign-in.js";
import { uiRoutes } from "./ui/routes.js";
import { mountUsageApi } from "./usage/api.js";
import type { UsageStore } from "./usage/store.js";
import type { RoleGroups } from "./visibility.js";
import { createLogger, type Logger } from "../common/log.js";

export interface RegistryAppOptions {
  catalog: Catalog;
  authenticator?: Authenticator;
  roles: RoleGroups;
  allowAnonymous: boolean;
  /** Issuer of people's tokens, advertised in the protected-resource metadata. */
  issuer?: string;
  /** The registry's public URL, from configuration: never from a request, whose Host any caller picks. */
  publicUrl: string;
  demoTokensDir?: string;
  /** The web UI signs people in with this OIDC provider and client. */
  uiSignIn?: { issuer: string; clientId: string };
  health: { live: () => boolean; ready: () => boolean };
  metrics?: RegistryMetrics;
  /** Usage records, impact and feedback; unset: those endpoints do not exist. */
  usage?: UsageStore;
  /** Where a request that failed inside the registry is logged; stderr unless set. */
  log?: Logger;
  /**
   * The list and the access check served without express (hot-paths.ts); the default. false:
   * every request goes through express, the answers the hot paths are tested against.
   */
  hotPaths?: boolean;
}

/** The registry as a request listener for node's HTTP server. */
export function createRegistryApp(options: RegistryAppOptions): RequestListener {
  const app = express();
  const log = options.log ?? createLogger({ component: "toolfleet-registry" });
  app.disable("x-powered-by");
  app.set("etag", false);
  const metrics = options.metrics ?? new RegistryMetrics(options.catalog);
  const areas = Object.keys(options.roles.reviewerGroups);
  const renderer = new ResponseRenderer(areas);
  const base = options.publicUrl.replace(/\/+$/, "");
  const resourceMetadataUrl = () => `${base}/.well-known/oauth-protected-resource`;
  const authn = createAuthn({ authenticator: options.authenticator, roles: options.roles, allowAnonymous: options.allowAnonymous, resourceMetadataUrl });

  app.use(metrics.middleware());

  app.get("/healthz", (_req, res) => {
    const ok = options.health.live();
    res.status(ok ? 200 : 503).json({ status: ok ? "ok" : "the McpServer watch keeps failing" });
  });
  app.get("/readyz", (_req, res) => {
    const ok = options.health.ready();
    res.status(ok ? 200 : 503).json({ status: ok ? "ready" : "the McpServer cache has not synced" });
  });
  app.get("/metrics", async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get("/openapi.json", (_req, res) => {
    res.json(openApiDocument(base));
  });
  app.get("/.well-known/oauth-protected-resource", (_req, res) => {
    res.json({ resource: base, ...(options.issuer ? { authorization_servers: [options.issuer] } : {}), bearer_methods_supported: ["header"] });
  });

  const pages = new ServerListPages(renderer);
  const registry = registryRoutes({ catalog: options.catalog, renderer, pages });
  const mount = RegistryMetrics.mount();
  app.use("/v0.1", mount, authn.api, registry);
  app.use("/v0", mount, authn.api, registry);
  if (options.usage) mountUsageApi(app, { catalog: options.catalog, store: options.usage, authenticate: authn.api, mount });
  app.use("/api/v1", mount, express.json(ACCESS_BODY), authn.api, accessRoutes(options.catalog));
  app.use(uiRoutes({ catalog: options.catalog, authn, areas, demoTokensDir: options.demoTokensDir, resourceMetadataUrl, usage: options.usage, ...(options.uiSignIn ? { signIn: oidcSignIn({ ...options.uiSignIn, authn, publicUrl: options.publicUrl }) } : {}) }));

  app.use((req, res) => {
    res.locals.route = "unmatched";
    res.status(404).json({ error: `no such endpoint: ${req.method} ${req.path} (see /openapi.json)` });
  });
  // Four parameters: express's error handler. Every refusal is JSON naming what to fix.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const refusal = refusalOf(err);
    if (refusal) {
      res.status(refusal.status).json(refusal.body);
      return;
    }
    log.error("request failed", { path: req.path, error: String((err as { message?: string } | null)?.message ?? err) });
    res.status(500).json({ error: "internal error" });
  });
  return options.hotPaths === false ? app : withHotPaths({ catalog: options.catalog, pages, authn, metrics, log }, app);
}
