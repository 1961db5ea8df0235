/**
 * The HTTP face of a kit server: the MCP endpoint behind Origin validation, a body limit,
 * authentication and the server-level access decision; health, readiness, metrics and the
 * RFC 9728 protected-resource metadata beside it. Both protocol revisions share the endpoint:
 * a request carrying the 2026-07-28 `_meta` envelope goes to the SDK's per-request handler,
 * anything else to the 2025-11-25 sessions. A request that only the replica which issued its
 * session or its confirmation can serve is forwarded there first.
 */
import express, { type Express, type NextFunction, type Request, type Response } from "express";
import { isInitializeRequest, isLegacyRequest, type McpHttpHandler } from "@modelcontextprotocol/server";
import { bearerChallenge, insufficientScopeChallenge, type Authenticator } from "../../auth/index.js";
import { decideServerAccess } from "../../policy/index.js";
import { authInfoFor, callerKey } from "./caller.js";
import type { EffectivePolicy } from "./catalog.js";
import { confirmationReplica } from "./confirmation.js";
import type { KitMetrics } from "./metrics.js";
import { FORWARDED_HEADER, forwardToReplica, sessionReplica, type ReplicaSeal } from "./replicas.js";
import type { SessionRegistry } from "./sessions.js";
import { toWebRequest, writeWebResponse } from "./web.js";
import type { Logger } from "../../common/log.js";

export interface HttpDependencies {
  name: string;
  publicUrl: string;
  allowedOrigins: ReadonlySet<string>;
  bodyLimitBytes: number;
  issuers: string[];
  policy: () => EffectivePolicy | undefined;
  policyError: () => string | undefined;
  authenticator: (resource: string) => Authenticator;
  sessions: SessionRegistry;
  /** The SDK's 2026-07-28 handler (legacy traffic is the sessions' business). */
  modern: McpHttpHandler;
  seal: ReplicaSeal;
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
  const authInfo = authInfoFor(auth.caller, token, auth.expiresAt);

  // Counted here, forwarded or not: a replica drains what it forwards as well as what it serves.
  if (req.method === "POST") deps.sessions.track(res);
  const issuer = issuingReplica(deps.seal, req);
  if (issuer !== undefined && !deps.seal.isSelf(issuer) && issuer !== "") {
    // A second hop would mean the replicas disagree on who they are: refuse rather than loop.
    if (req.headers[FORWARDED_HEADER] !== undefined) return rpcError(res, 503, "forwarded to a replica that does not hold this session or confirmation");
    return forwardToReplica(issuer, req, res, deps.seal.self ?? "");
  }

  const request = toWebRequest(req, res);
  const parsedBody: unknown = req.method === "POST" ? req.body : undefined;
  const sessionId = req.headers["mcp-session-id"];
  if (typeof sessionId === "string") {
    const session = deps.sessions.get(sessionId);
    if (!session) return rpcError(res, 404, "session not found; initialize a new one", -32001);
    if (session.owner !== callerKey(auth.caller)) return rpcError(res, 403, "forbidden: this session belongs to another caller");
    session.lastSeen = Date.now();
    return writeWebResponse(await session.transport.handleRequest(request, { parsedBody, authInfo }), res);
  }
  if (!(await isLegacyRequest(request, parsedBody, { maxRequestBodySize: deps.bodyLimitBytes }))) {
    return writeWebResponse(await deps.modern.fetch(request, { authInfo, parsedBody }), res);
  }
  if (req.method !== "POST" || !isInitializeRequest(parsedBody)) {
    return rpcError(res, 400, "bad request: send initialize first, then the Mcp-Session-Id it returns (or speak 2026-07-28, which needs no session)", -32600);
  }
  const refusal = deps.sessions.refusal(auth.caller);
  if (refusal) return rpcError(res, refusal.status, refusal.message);
  await writeWebResponse(await deps.sessions.initialize(auth.caller, request, parsedBody, authInfo), res);
}

/**
 * The replica that issued this request's session (2025) or the confirmation it answers (2026),
 * from their seal; undefined when neither is present or the seal does not hold (the request
 * is then served here, and refused here).
 */
function issuingReplica(seal: ReplicaSeal, req: Request): string | undefined {
  const sessionId = req.headers["mcp-session-id"];
  if (typeof sessionId === "string") return sessionReplica(seal, sessionId);
  const body = req.body as { params?: { requestState?: unknown } } | undefined;
  const state = req.method === "POST" && typeof body === "object" && body !== null ? body.params?.requestState : undefined;
  return typeof state === "string" ? confirmationReplica(seal, state) : undefined;
}
