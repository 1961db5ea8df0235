/**
 * Tool verification: an MCP handshake and tools/list against the running server with the SDK's
 * own Client over Streamable HTTP (mcp-tools-client.ts), as the operator's service identity,
 * compared with the declared tools. A server that cannot be reached is reported as such, never
 * as verified.
 */
import { listServerTools, ProtocolFailure, ServerUnauthorized, ServerUnreachable } from "./mcp-tools-client.js";

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

export async function verifyTools(options: VerifyOptions): Promise<VerificationResult> {
  try {
    const listed = await listServerTools({ url: options.url, ...(options.token ? { token: options.token } : {}), timeoutMs: options.timeoutMs });
    const discovered = listed.tools.map((t) => t.name);
    const serverInfo = { ...listed.serverInfo, protocolVersion: listed.protocolVersion };
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
    if (err instanceof ServerUnauthorized) {
      return { outcome: "Unauthorized", message: `${options.url} refused the operator's identity (HTTP ${err.status}): let the verifier service account in` };
    }
    if (err instanceof ServerUnreachable) return { outcome: "Unreachable", message: err.message };
    const detail = err instanceof ProtocolFailure ? err.detail : (err as Error).message.replace(/\s+/g, " ").slice(0, 300);
    return { outcome: "HandshakeFailed", message: `MCP handshake with ${options.url} failed: ${detail}` };
  }
}
