/**
 * The usage record: one per finished tool call, written by the kit and stored by the registry.
 * The wire shape lives here, beside the McpServer schema, so the kit that sends it and the
 * registry that validates it read one definition.
 */
import { z } from "zod";

/** Where a workload pod finds its usage token (a projected service-account token) and buffer. */
export const USAGE_TOKEN_DIR = "/var/run/secrets/toolfleet/usage";
export const USAGE_TOKEN_FILE = `${USAGE_TOKEN_DIR}/token`;
export const USAGE_BUFFER_DIR = "/var/lib/toolfleet/usage";

export const CALLER_KINDS = ["person", "service"] as const;
export const CALL_OUTCOMES = ["ok", "error", "denied", "declined"] as const;

export const UsageRecord = z
  .object({
    id: z.uuid().describe("Unique per call; the registry stores a given id once, so redelivery never double counts."),
    server: z.string().min(1).max(512).describe("The server's registry name, <prefix>.<namespace>/<name>."),
    tool: z.string().min(1).max(64).describe("The tool called; (unknown) for a name the server does not implement."),
    caller: z
      .string()
      .min(1)
      .max(320)
      .describe(
        "Who called: a person's subject, or a service account's namespace/name. Sent only on the server's authenticated channel; the registry stores a keyed hash of it for counting and keeps the name itself only for admins to look up.",
      ),
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
