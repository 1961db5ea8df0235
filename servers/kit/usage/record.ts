/**
 * A finished call becomes a usage record: a fresh id, the time, and the caller as a keyed hash
 * (HMAC-SHA256). Every server of a fleet is given the same key, so one person counts once
 * across servers and pods, while the registry never holds who they are.
 */
import { createHmac, randomUUID } from "node:crypto";
import type { UsageRecord } from "../../../crds/usage.js";
import { callerName } from "../../../policy/index.js";
import type { FinishedCall } from "./call.js";

export function callerHash(key: Buffer | string, call: Pick<FinishedCall, "caller">): string {
  // The kind is part of the message: a person and a service account can never share a hash.
  return createHmac("sha256", key).update(`${call.caller.kind}:${callerName(call.caller)}`).digest("hex");
}

export function usageRecordOf(call: FinishedCall, key: Buffer | string, now: Date = new Date()): UsageRecord {
  return {
    id: randomUUID(),
    server: call.server,
    tool: call.tool,
    caller: callerHash(key, call),
    callerKind: call.caller.kind === "user" ? "person" : "service",
    outcome: call.outcome,
    durationMs: Math.round(Math.max(0, call.durationMs) * 1000) / 1000,
    minutesSaved: call.outcome === "ok" ? Math.max(0, Math.min(1440, call.minutesSaved)) : 0,
    at: now.toISOString(),
  };
}
