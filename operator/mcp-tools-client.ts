/**
 * The operator's MCP client for tool verification: connects to a server with the SDK's v2
 * client, speaking the current revision (2026-07-28) and falling back to 2025-11-25 when the
 * server only speaks that, and lists every tool. Failures are typed so the caller can tell a
 * server it cannot reach from one that refused its identity from one that spoke MCP badly.
 */
import { lookup as systemLookup, resolve4, resolve6 } from "node:dns/promises";
import { isIP } from "node:net";
import { Client, InsufficientScopeError, SdkHttpError, StreamableHTTPClientTransport, UnauthorizedError, type Tool } from "@modelcontextprotocol/client";

export interface ListServerToolsOptions {
  /** The server's MCP endpoint. */
  url: string;
  /** The bearer token, asked for only once the host resolves (an unreachable server costs no token). */
  token?: () => Promise<string | undefined>;
  /** For each request, and twice that for the whole exchange. */
  timeoutMs: number;
  /** Why a host does not resolve, or undefined when it does (default: DNS, see `unresolvable`). */
  lookup?: (hostname: string) => Promise<string | undefined>;
}

export interface ServerTools {
  tools: Tool[];
  serverInfo: { name: string; version: string };
  /** The revision spoken: 2026-07-28, or 2025-11-25 (or older) after the fallback. */
  protocolVersion: string;
}

/** No connection: DNS, refused, reset, timed out. */
export class ServerUnreachable extends Error {
  override readonly name = "ServerUnreachable";
  constructor(readonly url: string, readonly reason: string, message = `cannot reach ${url} (${reason})`) {
    super(message);
  }
}

/** Reached, but the server refused the identity (401 or 403). */
export class ServerUnauthorized extends Error {
  override readonly name = "ServerUnauthorized";
  constructor(readonly url: string, readonly status: number) {
    super(`${url} refused the caller's identity (HTTP ${status})`);
  }
}

/** Reached, but the MCP exchange failed (handshake, tools/list, or what came back). */
export class ProtocolFailure extends Error {
  override readonly name = "ProtocolFailure";
  constructor(readonly url: string, readonly detail: string) {
    super(`MCP exchange with ${url} failed: ${detail}`);
  }
}

export async function listServerTools(options: ListServerToolsOptions): Promise<ServerTools> {
  const url = new URL(options.url);
  const unresolved = await (options.lookup ?? unresolvable)(url.hostname);
  if (unresolved) throw new ServerUnreachable(options.url, unresolved, `cannot reach ${options.url}: ${url.hostname} does not resolve (${unresolved})`);
  const token = await options.token?.();
  const transport = new StreamableHTTPClientTransport(url, { requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : {} });
  // `auto`: probe with server/discover, fall back to the 2025 initialize handshake on a server that does not know it.
  const client = new Client({ name: "toolfleet-operator", version: "0.1.0" }, { capabilities: {}, versionNegotiation: { mode: "auto" } });
  const requestOptions = { timeout: options.timeoutMs, signal: AbortSignal.timeout(options.timeoutMs * 2) };
  try {
    await client.connect(transport, requestOptions);
    const { tools } = await client.listTools(undefined, requestOptions);
    const info = client.getServerVersion();
    return {
      tools,
      serverInfo: { name: (info?.name ?? "").slice(0, 256), version: (info?.version ?? "").slice(0, 256) },
      protocolVersion: (client.getNegotiatedProtocolVersion() ?? "").slice(0, 64),
    };
  } catch (err) {
    const status = httpStatus(err);
    if (status === 401 || status === 403) throw new ServerUnauthorized(options.url, status);
    const code = connectionCode(err);
    if (code) throw new ServerUnreachable(options.url, code);
    throw new ProtocolFailure(options.url, (err instanceof Error ? err.message : String(err)).replace(/\s+/g, " ").slice(0, 300));
  } finally {
    await client.close().catch(() => {});
  }
}

function httpStatus(err: unknown): number | undefined {
  let e: unknown = err;
  for (let i = 0; i < 5 && e; i++) {
    if (e instanceof SdkHttpError) return e.status;
    // The SDK turns 401 and 403 challenges (WWW-Authenticate) into auth-flow errors of its own.
    if (e instanceof InsufficientScopeError) return 403;
    if (e instanceof UnauthorizedError) return 401;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

const CONNECTION_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT", "UND_ERR_SOCKET"]);

function connectionCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 5 && e; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && CONNECTION_CODES.has(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  const msg = (err as Error)?.message ?? "";
  if (/fetch failed|timed? ?out|aborted/i.test(msg)) return "no answer";
  return undefined;
}

/**
 * Why `host` does not resolve, or undefined if it does. DNS names go through c-ares (the DNS
 * server, asynchronously): getaddrinfo runs on libuv's four threads and, with a cluster's
 * search domains, takes about a second per miss — a fleet of unreachable servers queued behind
 * it for minutes. Single-label names (localhost, /etc/hosts entries) use the system resolver.
 */
export async function unresolvable(host: string): Promise<string | undefined> {
  const name = host.replace(/^\[|\]$/g, "");
  if (isIP(name)) return undefined;
  const code = (err: unknown) => (err as { code?: string }).code ?? "DNS error";
  if (!name.includes(".")) {
    try {
      await systemLookup(name);
      return undefined;
    } catch (err) {
      return code(err);
    }
  }
  // A first; AAAA only when the name exists without an A record (or A failed otherwise): a
  // name that does not exist (NXDOMAIN, ENOTFOUND) has no AAAA either, and a fleet of servers
  // not resolvable from here costs one query each, not two.
  let firstError: string | undefined;
  try {
    if ((await resolve4(name)).length > 0) return undefined;
  } catch (err) {
    firstError = code(err);
    if (firstError === "ENOTFOUND") return firstError;
  }
  try {
    if ((await resolve6(name)).length > 0) return undefined;
  } catch (err) {
    return firstError ?? code(err);
  }
  return firstError ?? "ENODATA";
}
