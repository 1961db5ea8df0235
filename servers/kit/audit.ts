/**
 * The audit trail: one JSON line per tool call, whatever its fate. Arguments are never
 * written, only a SHA-256 of their canonical JSON, so a line can prove which call was made
 * without leaking what was in it.
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "../../common/canonical-json.js";

export type CallOutcome = "ok" | "error" | "denied" | "declined";

export interface AuditRecord {
  time: string;
  server: string;
  session?: string;
  caller: { kind: "user"; subject: string } | { kind: "serviceAccount"; serviceAccount: string };
  groups: readonly string[];
  tool: string;
  decision: "allow" | "deny";
  /** Why it was allowed or denied, or why it did not run. */
  reason: string;
  outcome: CallOutcome;
  /** For sensitive tools: accept, decline, cancel, timeout, unsupported, error, or invalid (a forged, altered, replayed, expired or another caller's answer). */
  elicitation?: ElicitationOutcome;
  durationMs: number;
  argsSha256: string;
}

export type ElicitationOutcome = "accept" | "decline" | "cancel" | "timeout" | "unsupported" | "error" | "invalid";

export interface AuditSink {
  write(record: AuditRecord): void;
}

export const stdoutAuditSink: AuditSink = {
  write: (record) => void process.stdout.write(JSON.stringify({ audit: true, ...record }) + "\n"),
};

export const nullAuditSink: AuditSink = { write: () => {} };

/** An in-memory sink, for tests and for embedding. */
export class MemoryAuditSink implements AuditSink {
  readonly records: AuditRecord[] = [];
  write(record: AuditRecord): void {
    this.records.push(record);
  }
}

export function argsDigest(args: unknown): string {
  return createHash("sha256").update(canonicalJson(args)).digest("hex");
}
