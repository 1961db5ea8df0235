/**
 * The kit's tool-listing client, as the operator's verification uses it: an MCP handshake and
 * every page of tools/list over Streamable HTTP, returning the full tool definitions. Failures
 * are typed (unreachable, unauthorized with the HTTP status, protocol) and never carry the
 * answer's body: a hostile server must not be able to write into a condition or an Event.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";

export type { Tool };

export interface ListServerToolsOptions {
  url: string;
  /** The bearer token, asked for only once the server is about to be contacted. */
  token?: () => Promise<string | undefined>;
  timeoutMs: number;
  /**
   * Resolves the URL's host before anything is sent; a rejection is reported as unreachable.
   * The verification passes one that refuses addresses it must not contact.
   */
  lookup?: (hostname: string) => Promise<unknown>;
}

export interface ServerTools {
  tools: Tool[];
  serverInfo: { name: string; version: string };
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

export async function listServerTools(options: ListServerToolsOptions): Promise<ServerTools> {
  const url = new URL(options.url);
  if (options.lookup) {
    try {
      await options.lookup(url.hostname.replace(/^\[|\]$/g, ""));
    } catch (err) {
      const code = (err as { code?: string }).code ?? "lookup failed";
      throw new ToolsClientError("unreachable", `${url.hostname} cannot be contacted (${code})`, undefined, code);
    }
  }
  const token = await options.token?.();
  const transport = new StreamableHTTPClientTransport(url, { requestInit: token ? { headers: { Authorization: `Bearer ${token}` } } : {} });
  const client = new Client({ name: "toolfleet-operator", version: "0.1.0" }, { capabilities: {} });
  const requestOptions = { timeout: options.timeoutMs, signal: AbortSignal.timeout(options.timeoutMs * 2) };
  try {
    await client.connect(transport, requestOptions);
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {}, requestOptions);
      tools.push(...page.tools);
      cursor = page.nextCursor;
      if (tools.length > 1024) throw new ToolsClientError("protocol", "tools/list returned more than 1024 tools");
    } while (cursor);
    const info = client.getServerVersion();
    return { tools, serverInfo: { name: info?.name ?? "", version: info?.version ?? "" }, protocolVersion: transport.protocolVersion ?? "" };
  } catch (err) {
    if (err instanceof ToolsClientError) throw err;
    if (err instanceof StreamableHTTPError && (err.code === 401 || err.code === 403)) throw new ToolsClientError("unauthorized", `HTTP ${err.code}`, err.code);
    const code = connectionCode(err);
    if (code) throw new ToolsClientError("unreachable", `no connection (${code})`, undefined, code);
    const status = err instanceof StreamableHTTPError && typeof err.code === "number" && err.code >= 100 ? err.code : undefined;
    const rpc = !status && typeof (err as { code?: unknown }).code === "number" ? `JSON-RPC error ${(err as { code: number }).code}` : undefined;
    throw new ToolsClientError("protocol", status ? `HTTP ${status}` : (rpc ?? "not a valid MCP answer"), status);
  } finally {
    await client.close().catch(() => {});
  }
}
