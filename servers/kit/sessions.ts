/**
 * MCP sessions: one SDK Server and Streamable HTTP transport per session (the SDK's model; a
 * sensitive tool's confirmation travels on its session). A session belongs to the caller that
 * opened it, is closed after a spell of idleness, and all are closed on shutdown.
 */
import { randomUUID } from "node:crypto";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import { CallToolRequestSchema, ElicitResultSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { callerName, isVerifier, visibleTools, type Caller } from "../../policy/index.js";
import { callTool, type CallDependencies } from "./calls.js";
import type { EffectivePolicy } from "./catalog.js";

export interface Session {
  transport: StreamableHTTPServerTransport;
  server: Server;
  /** `kind:name` of the caller that opened it; nobody else may use it. */
  owner: string;
  lastSeen: number;
}

export interface SessionDependencies extends CallDependencies {
  version: string;
  instructions?: string;
  policy: () => EffectivePolicy | undefined;
}

export const callerKey = (caller: Caller) => `${caller.kind}:${callerName(caller)}`;

/** The authenticated caller rides to the SDK handlers in AuthInfo.extra. */
export function authInfoFor(caller: Caller, token: string, expiresAt: number): AuthInfo {
  return { token, clientId: callerName(caller), scopes: [], expiresAt, extra: { caller } };
}

function callerOf(authInfo: AuthInfo | undefined): Caller {
  const caller = authInfo?.extra?.caller as Caller | undefined;
  // The HTTP layer authenticates every request before the SDK sees it; this cannot happen.
  if (!caller) throw new Error("request reached the MCP server unauthenticated");
  return caller;
}

export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();
  private inflight = 0;
  private idle?: () => void;

  constructor(private readonly deps: SessionDependencies) {}

  get size(): number {
    return this.sessions.size;
  }
  get requestsInFlight(): number {
    return this.inflight;
  }

  /**
   * Counts a POST until its response has ended: a tool call is done only once its result has
   * been written to the client, not when the handler returns.
   */
  track(res: { once(event: "close", listener: () => void): unknown }): void {
    this.inflight++;
    res.once("close", () => {
      if (--this.inflight === 0) this.idle?.();
    });
  }

  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  /** A new, not yet initialized session; it is registered once the SDK assigns its id. */
  async open(owner: Caller): Promise<Session> {
    const server = this.createServer();
    const session: Session = {
      server,
      owner: callerKey(owner),
      lastSeen: Date.now(),
      transport: new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        onsessioninitialized: (id) => void this.sessions.set(id, session),
        onsessionclosed: (id) => void this.sessions.delete(id),
      }),
    };
    session.transport.onclose = () => {
      if (session.transport.sessionId) this.sessions.delete(session.transport.sessionId);
    };
    await server.connect(session.transport);
    return session;
  }

  /** Tells every session its tool list may have changed (after a policy reload). */
  toolsChanged(): void {
    for (const s of this.sessions.values()) void s.server.sendToolListChanged().catch(() => {});
  }

  closeIdle(idleMs: number): void {
    const cutoff = Date.now() - idleMs;
    for (const s of this.sessions.values()) if (s.lastSeen < cutoff) void s.transport.close();
  }

  /** Closes every session once no request is running, or after `graceMs`. */
  async drain(graceMs: number): Promise<void> {
    if (this.inflight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.idle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await Promise.all([...this.sessions.values()].map((s) => s.transport.close().catch(() => {})));
    this.sessions.clear();
  }

  private createServer(): Server {
    const { deps } = this;
    const server = new Server(
      { name: deps.serverName, version: deps.version },
      { capabilities: { tools: { listChanged: true } }, ...(deps.instructions ? { instructions: deps.instructions } : {}) },
    );
    server.setRequestHandler(ListToolsRequestSchema, (_request, extra) => {
      const effective = deps.policy();
      if (!effective) return { tools: [] };
      const caller = callerOf(extra.authInfo);
      // The verifier sees every implemented tool, declared or not: that is what it checks.
      if (isVerifier(effective.policy, caller)) return { tools: deps.catalog.allDescriptors() };
      return { tools: visibleTools(effective.policy, caller).map((t) => deps.catalog.entries.get(t.name)!.descriptor) };
    });
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      const effective = deps.policy();
      if (!effective) throw new Error("no policy loaded");
      return callTool(deps, effective, {
          caller: callerOf(extra.authInfo),
          tool: request.params.name,
          args: request.params.arguments,
          sessionId: extra.sessionId,
          signal: extra.signal,
          server,
          ask: (message, options) =>
          extra.sendRequest({ method: "elicitation/create", params: { message, requestedSchema: { type: "object", properties: {} } } }, ElicitResultSchema, options),
      });
    });
    return server;
  }
}
