/**
 * 2025-11-25 sessions: one SDK Server and Streamable HTTP transport per session (that revision's
 * model; a sensitive tool's confirmation travels on its session). A session belongs to the
 * caller that opened it, who may hold only so many at once; it is closed after a spell of
 * idleness, and all are closed on shutdown. Its id is sealed and names this replica, so any
 * other replica forwards the session's requests here (replicas.ts).
 */
import { WebStandardStreamableHTTPServerTransport, type AuthInfo, type Server } from "@modelcontextprotocol/server";
import { callerKey } from "./caller.js";
import { createProtocolServer, type ProtocolDependencies } from "./protocol-server.js";
import { newSessionId, type ReplicaSeal } from "./replicas.js";
import type { Caller } from "../../policy/index.js";

export interface Session {
  transport: WebStandardStreamableHTTPServerTransport;
  server: Server;
  /** `callerKey` of the caller that opened it; nobody else may use it. */
  owner: string;
  lastSeen: number;
}

export interface SessionLimits {
  maxSessions: number;
  maxSessionsPerCaller: number;
}

/** Why a new session was refused: the HTTP status and the message the client gets. */
export interface SessionRefusal {
  status: number;
  message: string;
}

export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();
  /** Every session not yet closed, initialized or not: what the limits count. */
  private readonly open = new Set<Session>();
  private inflight = 0;
  private idle?: () => void;

  constructor(
    private readonly deps: ProtocolDependencies,
    private readonly seal: ReplicaSeal,
    private readonly limits: SessionLimits,
  ) {}

  get size(): number {
    return this.open.size;
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

  /** Whether `caller` may open one more session, and if not, why. */
  refusal(caller: Caller): SessionRefusal | undefined {
    if (this.open.size >= this.limits.maxSessions) return { status: 503, message: "too many open sessions on this server; try again later" };
    const owner = callerKey(caller);
    let held = 0;
    for (const s of this.open) if (s.owner === owner) held++;
    if (held >= this.limits.maxSessionsPerCaller) {
      return {
        status: 429,
        message: `too many open sessions for ${owner}: ${held} of at most ${this.limits.maxSessionsPerCaller}; close one (DELETE with its Mcp-Session-Id) or let an idle one expire`,
      };
    }
    return undefined;
  }

  /** Serves an initialize on a new session; the session stays only if the SDK initialized it. */
  async initialize(owner: Caller, request: Request, parsedBody: unknown, authInfo: AuthInfo): Promise<Response> {
    const server = createProtocolServer(this.deps, "legacy");
    const session: Session = {
      server,
      owner: callerKey(owner),
      lastSeen: Date.now(),
      transport: new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => newSessionId(this.seal),
        onsessioninitialized: (id) => void this.sessions.set(id, session),
        onsessionclosed: (id) => this.forget(id, session),
      }),
    };
    session.transport.onclose = () => this.forget(session.transport.sessionId, session);
    this.open.add(session);
    await server.connect(session.transport);
    const response = await session.transport.handleRequest(request, { parsedBody, authInfo });
    if (!session.transport.sessionId) await this.close(session);
    return response;
  }

  /** Tells every session its tool list may have changed (after a policy reload). */
  toolsChanged(): void {
    for (const s of this.sessions.values()) void s.server.sendToolListChanged().catch(() => {});
  }

  closeIdle(idleMs: number): void {
    const cutoff = Date.now() - idleMs;
    for (const s of this.open) if (s.lastSeen < cutoff) void this.close(s);
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
    await Promise.all([...this.open].map((s) => this.close(s)));
  }

  private async close(session: Session): Promise<void> {
    this.forget(session.transport.sessionId, session);
    await session.transport.close().catch(() => {});
  }

  private forget(id: string | undefined, session: Session): void {
    if (id !== undefined) this.sessions.delete(id);
    this.open.delete(session);
  }
}
