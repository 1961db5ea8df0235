/**
 * Tool verification: an MCP handshake and tools/list against the running server with the SDK's
 * own Client over Streamable HTTP, as the operator's service identity, compared with the
 * declared tools. A server that cannot be reached is reported as such, never as verified.
 */
import { lookup, resolve4, resolve6 } from "node:dns/promises";
import { isIP } from "node:net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

export type VerificationOutcome =
  /** tools/list matches spec.tools exactly. */
  | "Verified"
  /** Reached, but a declared tool is missing or an undeclared one is listed. */
  | "Mismatch"
  /** No connection (DNS, refused, timed out). */
  | "Unreachable"
  /** Reached, but the server refused the operator's identity (401/403). */
  | "Unauthorized"
  /** Reached, but the MCP handshake or tools/list failed. */
  | "HandshakeFailed";

export interface ToolComparison {
  name: string;
  declared: boolean;
  discovered: boolean;
}

export interface VerificationResult {
  outcome: VerificationOutcome;
  message: string;
  tools?: ToolComparison[];
  serverInfo?: { name: string; version: string; protocolVersion: string };
}

export interface VerifyOptions {
  url: string;
  declared: readonly string[];
  /** The bearer token (resolved only once the host resolves, so an unreachable server costs no token). */
  token?: () => Promise<string | undefined>;
  timeoutMs: number;
}

export function compareTools(declared: readonly string[], discovered: readonly string[]): ToolComparison[] {
  const d = new Set(declared);
  const s = new Set(discovered);
  return [...new Set([...declared, ...discovered])].sort().map((name) => ({ name, declared: d.has(name), discovered: s.has(name) }));
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
async function unresolvable(host: string): Promise<string | undefined> {
  const name = host.replace(/^\[|\]$/g, "");
  if (isIP(name)) return undefined;
  const code = (err: unknown) => (err as { code?: string }).code ?? "DNS error";
  if (!name.includes(".")) {
    try {
      await lookup(name);
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

export async function verifyTools(options: VerifyOptions): Promise<VerificationResult> {
  const url = new URL(options.url);
  // Resolve first: the common case in a cluster without the server's DNS or route is answered
  // without minting a token or opening a session.
  const unresolved = await unresolvable(url.hostname);
  if (unresolved) return { outcome: "Unreachable", message: `cannot reach ${options.url}: ${url.hostname} does not resolve (${unresolved})` };
  const token = await options.token?.();
  const transport = new StreamableHTTPClientTransport(url, {
    requestInit: token ? { headers: { Authorization: `Bearer ${token}` } } : {},
  });
  const client = new Client({ name: "toolfleet-operator", version: "0.1.0" }, { capabilities: {} });
  const requestOptions = { timeout: options.timeoutMs, signal: AbortSignal.timeout(options.timeoutMs * 2) };
  try {
    await client.connect(transport, requestOptions);
    const discovered: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {}, requestOptions);
      discovered.push(...page.tools.map((t) => t.name));
      cursor = page.nextCursor;
    } while (cursor);
    const info = client.getServerVersion();
    const serverInfo = {
      name: (info?.name ?? "").slice(0, 256),
      version: (info?.version ?? "").slice(0, 256),
      protocolVersion: (transport.protocolVersion ?? "").slice(0, 64),
    };
    const tools = compareTools(options.declared, discovered);
    const missing = tools.filter((t) => t.declared && !t.discovered).map((t) => t.name);
    const undeclared = tools.filter((t) => !t.declared && t.discovered).map((t) => t.name);
    if (missing.length === 0 && undeclared.length === 0) {
      return { outcome: "Verified", message: `tools/list matches the ${options.declared.length} declared tools`, tools, serverInfo };
    }
    const parts = [
      missing.length ? `declared but not listed: ${missing.join(", ")}` : "",
      undeclared.length ? `listed but not declared: ${undeclared.join(", ")}` : "",
    ].filter(Boolean);
    return { outcome: "Mismatch", message: `tools/list differs from spec.tools (${parts.join("; ")})`, tools, serverInfo };
  } catch (err) {
    if (err instanceof StreamableHTTPError && (err.code === 401 || err.code === 403)) {
      return { outcome: "Unauthorized", message: `${options.url} refused the operator's identity (HTTP ${err.code}): let the verifier service account in` };
    }
    const code = connectionCode(err);
    if (code) return { outcome: "Unreachable", message: `cannot reach ${options.url} (${code})` };
    const detail = (err as Error).message.replace(/\s+/g, " ").slice(0, 300);
    return { outcome: "HandshakeFailed", message: `MCP handshake with ${options.url} failed: ${detail}` };
  } finally {
    await client.close().catch(() => {});
  }
}
