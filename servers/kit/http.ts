/**
 * The HTTP face of a kit server: the MCP endpoint behind Origin validation, a body limit,
 * authentication and the server-level access decision; health, readiness, metrics and the
 * RFC 9728 protected-resource metadata beside it.
 */
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { bearerChallenge, insufficientScopeChallenge, type Authenticator } from "../../auth/index.js";
import { decideServerAccess } from "../../policy/index.js";
import type { EffectivePolicy } from "./catalog.js";
import type { Logger } from "./logger.js";
import type { KitMetrics } from "./metrics.js";
import { authInfoFor, callerKey, type SessionRegistry } from "./sessions.js";

export interface HttpDependencies {
  name: string;
  publicUrl: string;
  allowedOrigins: ReadonlySet<string>;
  bodyLimitBytes: number;
  maxSessions: number;
  issuers: string[];
  policy: () => EffectivePolicy | undefined;
  policyError: () => string | undefined;
  authenticator: (resource: string) => Authenticator;
  sessions: SessionRegistry;
  metrics: KitMetrics;
  logger: Logger;
  draining: () => boolean;
}

const WELL_KNOWN = "/.well-known/oauth-protected-resource";

export function resourceUrl(publicUrl: string, effective: EffectivePolicy): string {
  return `${publicUrl}${effective.policy.server.path}`;
}

/** A JSON-RPC error body, as MCP clients expect even on HTTP errors. */
function rpcError(res: Response, status: number, message: string, code = -32000): void {
  res.status(status).json({ jsonrpc: "2.0", error: { code, message }, id: null });
}

export function createKitApp(deps: HttpDependencies): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);

  app.get("/healthz", (_req, res) => void res.json({ status: "ok" }));
  app.get("/readyz", (_req, res) => {
    if (deps.draining()) return void res.status(503).json({ status: "draining" });
    if (!deps.policy()) return void res.status(503).json({ status: "no policy loaded", reason: deps.policyError() ?? "not read yet" });
    res.json({ status: "ready" });
  });
  app.get("/metrics", async (_req, res) => {
    res.setHeader("content-type", deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });
  app.get([WELL_KNOWN, `${WELL_KNOWN}/*rest`], (req, res) => {
    const effective = deps.policy();
    if (!effective) return void res.status(503).json({ error: "no policy loaded" });
    const resource = resourceUrl(deps.publicUrl, effective);
    if (req.path !== WELL_KNOWN && req.path !== `${WELL_KNOWN}${effective.policy.server.path}`) return void res.status(404).end();
    res.json({ resource, authorization_servers: deps.issuers, bearer_methods_supported: ["header"], resource_name: deps.name });
  });

  const json = express.json({ limit: deps.bodyLimitBytes, type: ["application/json"] });
  app.use((req, res, next) => {
    const effective = deps.policy();
    if (!effective) {
      // No policy, no path yet: answer on the default path rather than 404, so clients retry.
      if (req.path === "/mcp") return rpcError(res, 503, "server not ready: no policy loaded");
      return next();
    }
    if (req.path !== effective.policy.server.path) return next();
    if (deps.draining()) {
      res.setHeader("connection", "close");
      return rpcError(res, 503, "server shutting down");
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !deps.allowedOrigins.has(origin)) {
      return rpcError(res, 403, `origin ${origin} is not allowed`);
    }
    json(req, res, (err?: unknown) => (err ? bodyError(err, res) : void serveMcp(deps, effective, req, res).catch(next)));
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    deps.logger.error("request failed", { error: err as Error });
    if (!res.headersSent) rpcError(res, 500, "internal server error", -32603);
  });
  return app;
}

function bodyError(err: unknown, res: Response): void {
  const e = err as { type?: string; status?: number };
  if (e.type === "entity.too.large") return rpcError(res, 413, "request body too large", -32600);
  if (e.type === "entity.parse.failed") return rpcError(res, 400, "parse error: body is not valid JSON", -32700);
  rpcError(res, e.status ?? 400, "bad request", -32600);
}

async function serveMcp(deps: HttpDependencies, effective: EffectivePolicy, req: Request, res: Response): Promise<void> {
  const resource = resourceUrl(deps.publicUrl, effective);
  const metadata = `${deps.publicUrl}${WELL_KNOWN}${effective.policy.server.path}`;
  const auth = await deps.authenticator(resource).authenticate(req.headers.authorization);
  if (!auth.ok) {
    if (auth.error.code === "unavailable") {
      deps.logger.error("cannot verify tokens", { reason: auth.error.reason });
      return rpcError(res, 503, "cannot verify tokens right now; try again");
    }
    res.setHeader("www-authenticate", bearerChallenge(metadata, auth.error));
    return rpcError(res, 401, `unauthorized: ${auth.error.reason}`);
  }
  const access = decideServerAccess(effective.policy, auth.caller);
  if (!access.allowed) {
    res.setHeader("www-authenticate", insufficientScopeChallenge(metadata, access.reason));
    return rpcError(res, 403, `forbidden: ${access.reason}`);
  }
  const token = (req.headers.authorization as string).slice(7).trim();
  const withAuth = Object.assign(req, { auth: authInfoFor(auth.caller, token, auth.expiresAt) });

  if (req.method === "POST") deps.sessions.track(res);
  const sessionId = req.headers["mcp-session-id"];
  if (typeof sessionId === "string") {
    const session = deps.sessions.get(sessionId);
    if (!session) return rpcError(res, 404, "session not found; initialize a new one", -32001);
    if (session.owner !== callerKey(auth.caller)) return rpcError(res, 403, "forbidden: this session belongs to another caller");
    session.lastSeen = Date.now();
    return session.transport.handleRequest(withAuth, res, req.body);
  }
  if (req.method !== "POST" || !isInitializeRequest(req.body)) {
    return rpcError(res, 400, "bad request: send initialize first, then the Mcp-Session-Id it returns", -32600);
  }
  if (deps.sessions.size >= deps.maxSessions) return rpcError(res, 503, "too many open sessions; try again later");
  const session = await deps.sessions.open(auth.caller);
  await session.transport.handleRequest(withAuth, res, req.body);
}
