/**
 * The operator's MCP client for tool verification: the SDK's v2 client over Streamable HTTP,
 * speaking the current revision (2026-07-28) and falling back to 2025-11-25 when the server only
 * speaks that, listing every page of tools with their full definitions. Failures are typed
 * (unreachable, unauthorized with the HTTP status, protocol) and never carry the answer's body:
 * a hostile server must not be able to write into a condition or an Event.
 */
import { Client, InsufficientScopeError, SdkHttpError, StreamableHTTPClientTransport, UnauthorizedError, type Tool } from "@modelcontextprotocol/client";
import { pinnedConnection, type PinnedConnection } from "./pinned-connection.js";

export type { Tool };

export interface ListServerToolsOptions {
  url: string;
  /** The bearer token, asked for only once the server is about to be contacted. */
  token?: () => Promise<string | undefined>;
  /** For each request, and twice that for the whole exchange. */
  timeoutMs: number;
  /**
   * Resolves the URL's host before anything is sent, to the addresses it may be contacted at;
   * a rejection is reported as unreachable. Every connection then goes to the first of them
   * (operator/pinned-connection.ts), never to what a later lookup of the name would say. The
   * verification passes one that refuses addresses it must not contact.
   */
  lookup?: (hostname: string) => Promise<readonly string[]>;
}

export interface ServerTools {
  tools: Tool[];
  serverInfo: { name: string; version: string };
  /** The revision spoken: 2026-07-28, or 2025-11-25 (or older) after the fallback. */
  protocolVersion: string;
}

export type ToolsClientFailure = "unreachable" | "unauthorized" | "protocol";

export class ToolsClientError extends Error {
  override readonly name = "ToolsClientError";
  constructor(
    readonly kind: ToolsClientFailure,
    message: string,
    /** The HTTP status, when the server answered with one. */
    readonly status?: number,
    /** A short machine-readable cause (an errno code, "timeout"), never body text. */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** More than this many tools is not a server of tools but a flood. */
const MAX_TOOLS = 1024;

export async function listServerTools(options: ListServerToolsOptions): Promise<ServerTools> {
  const url = new URL(options.url);
  let pinned: PinnedConnection | undefined;
  if (options.lookup) {
    let addresses: readonly string[];
    try {
      addresses = await options.lookup(url.hostname.replace(/^\[|\]$/g, ""));
    } catch (err) {
      const code = (err as { code?: string }).code ?? "lookup failed";
      throw new ToolsClientError("unreachable", `${url.hostname} cannot be contacted (${code})`, undefined, code);
    }
    if (!addresses[0]) throw new ToolsClientError("unreachable", `${url.hostname} has no address`, undefined, "ENODATA");
    pinned = pinnedConnection(addresses[0]);
  }
  const token = await options.token?.();
  // Redirects are not followed: a server could otherwise send the operator's request, token and
  // all, to an address the lookup above refused.
  const transport = new StreamableHTTPClientTransport(url, {
    requestInit: { redirect: "manual", ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) },
    ...(pinned ? { fetch: pinned.fetch } : {}),
  });
  // `auto`: probe with server/discover, fall back to the 2025 initialize handshake on a server that does not know it.
  const client = new Client({ name: "toolfleet-operator", version: "0.1.0" }, { capabilities: {}, versionNegotiation: { mode: "auto" } });
  const requestOptions = { timeout: options.timeoutMs, signal: AbortSignal.timeout(options.timeoutMs * 2) };
  try {
    await client.connect(transport, requestOptions);
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : undefined, requestOptions);
      tools.push(...page.tools);
      cursor = page.nextCursor;
      if (tools.length > MAX_TOOLS) throw new ToolsClientError("protocol", `tools/list returned more than ${MAX_TOOLS} tools`);
    } while (cursor);
    const info = client.getServerVersion();
    return {
      tools,
      serverInfo: { name: (info?.name ?? "").slice(0, 256), version: (info?.version ?? "").slice(0, 256) },
      protocolVersion: (client.getNegotiatedProtocolVersion() ?? "").slice(0, 64),
    };
  } catch (err) {
    if (err instanceof ToolsClientError) throw err;
    const status = httpStatus(err);
    if (status === 401 || status === 403) throw new ToolsClientError("unauthorized", `HTTP ${status}`, status);
    const code = connectionCode(err);
    if (code) throw new ToolsClientError("unreachable", `no connection (${code})`, undefined, code);
    const rpc = status === undefined && typeof (err as { code?: unknown }).code === "number" ? `JSON-RPC error ${(err as { code: number }).code}` : undefined;
    throw new ToolsClientError("protocol", status !== undefined ? `HTTP ${status}` : (rpc ?? "not a valid MCP answer"), status);
  } finally {
    await client.close().catch(() => {});
    await pinned?.close().catch(() => {});
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
  if (/fetch failed/i.test(msg)) return "ECONNECT";
  if (/timed? ?out|aborted/i.test(msg)) return "timeout";
  return undefined;
}
