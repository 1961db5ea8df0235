/**
 * Tool verification: the running server's tools/list (operator/mcp-tools-client.ts), as the
 * operator's service identity, compared with the declared tools — names, descriptions, and the
 * read-only and destructive hints against readOnly and sensitive — with a digest of the full
 * definitions (input schemas included), which the status pins per approved revision. A server
 * that cannot be reached is reported as such, never as verified; no message carries anything
 * the server sent but its HTTP status.
 */
import { createHash } from "node:crypto";
import type { ToolSpec } from "../crds/index.js";
import { listServerTools, ToolsClientError, type ListServerToolsOptions, type Tool } from "./mcp-tools-client.js";
import { canonicalJson } from "../common/canonical-json.js";

export type VerificationOutcome =
  /** tools/list matches spec.tools exactly. */
  | "Verified"
  /** Reached, but a declared tool is missing, an undeclared one is listed, or a description or hint differs. */
  | "Mismatch"
  /** No connection (DNS, refused, timed out). */
  | "Unreachable"
  /** Not contacted: the address is one verification never goes to. */
  | "TargetRefused"
  /** Reached, but the server refused the operator's identity (401/403). */
  | "Unauthorized"
  /** Reached, but the MCP handshake or tools/list failed. */
  | "HandshakeFailed";

export interface ToolComparison {
  name: string;
  declared: boolean;
  discovered: boolean;
}

export interface ToolDefinitions {
  /** SHA-256 of every definition, sorted by name. */
  digest: string;
  /** SHA-256 of each tool's definition, by name. */
  byTool: Record<string, string>;
}

export interface VerificationResult {
  outcome: VerificationOutcome;
  message: string;
  tools?: ToolComparison[];
  serverInfo?: { name: string; version: string; protocolVersion: string };
  definitions?: ToolDefinitions;
}

export type DeclaredTool = Pick<ToolSpec, "name"> & Partial<Pick<ToolSpec, "description" | "readOnly" | "sensitive">>;

export interface VerifyOptions {
  url: string;
  declared: readonly DeclaredTool[];
  /** The bearer token (asked for only once the target passed its checks). */
  token?: () => Promise<string | undefined>;
  timeoutMs: number;
  /** Resolves and checks the target before anything is sent (operator/verification-target.ts). */
  lookup?: ListServerToolsOptions["lookup"];
}

export function compareTools(declared: readonly string[], discovered: readonly string[]): ToolComparison[] {
  const d = new Set(declared);
  const s = new Set(discovered);
  return [...new Set([...declared, ...discovered])].sort().map((name) => ({ name, declared: d.has(name), discovered: s.has(name) }));
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

export function toolDefinitions(tools: readonly Tool[]): ToolDefinitions {
  const sorted = [...tools].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const byTool = Object.fromEntries(sorted.map((t) => [t.name, sha256(canonicalJson(t))]));
  return { digest: sha256(canonicalJson(sorted)), byTool };
}

/** What the server's own definition says that contradicts the declaration, per tool. */
export function hintMismatches(declared: readonly DeclaredTool[], listed: readonly Tool[]): string[] {
  const byName = new Map(listed.map((t) => [t.name, t]));
  const out: string[] = [];
  for (const d of declared) {
    const t = byName.get(d.name);
    if (!t) continue;
    if (d.description !== undefined && (t.description ?? "").trim() !== d.description.trim()) out.push(`${d.name}: description differs from the reviewed one`);
    const readOnlyHint = t.annotations?.readOnlyHint;
    const destructiveHint = t.annotations?.destructiveHint;
    if (d.readOnly && readOnlyHint !== true) out.push(`${d.name}: declared readOnly, but the server does not mark it readOnlyHint`);
    if (!d.readOnly && readOnlyHint === true) out.push(`${d.name}: the server marks it readOnlyHint, but it is not declared readOnly`);
    if (d.readOnly && destructiveHint === true) out.push(`${d.name}: declared readOnly, but the server marks it destructiveHint`);
    if (!d.sensitive && !d.readOnly && destructiveHint === true) out.push(`${d.name}: the server marks it destructiveHint, but it is not declared sensitive`);
  }
  return out;
}

export async function verifyTools(options: VerifyOptions): Promise<VerificationResult> {
  const host = new URL(options.url).host;
  try {
    const listed = await listServerTools({ url: options.url, timeoutMs: options.timeoutMs, ...(options.token ? { token: options.token } : {}), ...(options.lookup ? { lookup: options.lookup } : {}) });
    const serverInfo = { name: listed.serverInfo.name.slice(0, 256), version: listed.serverInfo.version.slice(0, 256), protocolVersion: listed.protocolVersion.slice(0, 64) };
    const declaredNames = options.declared.map((t) => t.name);
    const tools = compareTools(declaredNames, listed.tools.map((t) => t.name));
    const definitions = toolDefinitions(listed.tools);
    const missing = tools.filter((t) => t.declared && !t.discovered).map((t) => t.name);
    const undeclared = tools.filter((t) => !t.declared && t.discovered).map((t) => t.name);
    const hints = hintMismatches(options.declared, listed.tools);
    if (missing.length === 0 && undeclared.length === 0 && hints.length === 0) {
      return { outcome: "Verified", message: `tools/list matches the ${declaredNames.length} declared tools`, tools, serverInfo, definitions };
    }
    // Tool names in messages are the server's: only those that are valid names, and a few of them.
    const names = (xs: string[]) => xs.filter((n) => /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(n)).slice(0, 16).join(", ");
    const parts = [missing.length ? `declared but not listed: ${names(missing)}` : "", undeclared.length ? `listed but not declared: ${names(undeclared)}` : "", ...hints.slice(0, 16)].filter(Boolean);
    return { outcome: "Mismatch", message: `tools/list differs from spec.tools (${parts.join("; ")})`, tools, serverInfo, definitions };
  } catch (err) {
    if ((err as { code?: string }).code === "ETARGETREFUSED") return { outcome: "TargetRefused", message: `not contacted: ${(err as Error).message}` };
    if (err instanceof ToolsClientError) {
      if (err.kind === "unauthorized") return { outcome: "Unauthorized", message: `${host} refused the operator's identity (HTTP ${err.status}): let the verifier service account in` };
      if (err.kind === "unreachable") return { outcome: "Unreachable", message: `cannot reach ${host} (${err.code ?? "no connection"})` };
      return { outcome: "HandshakeFailed", message: `MCP handshake with ${host} failed (${err.status ? `HTTP ${err.status}` : "protocol error"})` };
    }
    return { outcome: "HandshakeFailed", message: `MCP handshake with ${host} failed (protocol error)` };
  }
}
