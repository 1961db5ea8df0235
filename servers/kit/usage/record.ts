/**
 * A finished call becomes a usage record: a fresh id, the time, and who called (a person's
 * subject or a service account's namespace/name). The record goes only to the registry, on the
 * server's authenticated channel; the registry counts callers by a keyed hash whose key it
 * alone holds, so no server namespace needs a fleet-wide secret.
 */
import { randomUUID } from "node:crypto";
import type { UsageRecord } from "../../../crds/usage.js";
import { callerName } from "../../../policy/index.js";
import type { FinishedCall } from "./call.js";

export function usageRecordOf(call: FinishedCall, now: Date = new Date()): UsageRecord {
  return {
    id: randomUUID(),
    server: call.server,
    tool: call.tool,
    caller: callerName(call.caller),
    callerKind: call.caller.kind === "user" ? "person" : "service",
    outcome: call.outcome,
    durationMs: Math.round(Math.max(0, call.durationMs) * 1000) / 1000,
    minutesSaved: call.outcome === "ok" ? Math.max(0, Math.min(1440, call.minutesSaved)) : 0,
    at: now.toISOString(),
  };
}
