/**
 * The usage record: one per finished tool call, written by the kit and stored by the registry.
 * The wire shape lives here, beside the McpServer schema, so the kit that sends it and the
 * registry that validates it read one definition.
 */
import { z } from "zod";

export const CALLER_KINDS = ["person", "service"] as const;
export const CALL_OUTCOMES = ["ok", "error", "denied", "declined"] as const;

export const UsageRecord = z
  .object({
    id: z.uuid().describe("Unique per call; the registry stores a given id once, so redelivery never double counts."),
    server: z.string().min(1).max(512).describe("The server's registry name, <prefix>.<namespace>/<name>."),
    tool: z.string().min(1).max(64).describe("The tool called; (unknown) for a name the server does not implement."),
    caller: z
      .string()
      .regex(/^[0-9a-f]{64}$/, "must be 64 lowercase hex digits (an HMAC-SHA256)")
      .describe("A keyed hash of the caller, for counting distinct people without storing who they are."),
    callerKind: z.enum(CALLER_KINDS),
    outcome: z.enum(CALL_OUTCOMES),
    durationMs: z.number().min(0).max(86_400_000),
    minutesSaved: z.number().min(0).max(1440).describe("The tool's declared estimate when the call succeeded, else 0."),
    at: z.iso.datetime().describe("When the call finished (UTC)."),
  })
  .strict();
export type UsageRecord = z.output<typeof UsageRecord>;

/** What the kit posts to the registry's usage API. */
export const UsageBatch = z
  .object({ records: z.array(UsageRecord).min(1).max(1000) })
  .strict();
export type UsageBatch = z.output<typeof UsageBatch>;
