/**
 * What the kit tells usage recording about each finished call (the one hook in calls.ts), and
 * the shape of a recorder the kit starts and stops with the server.
 */
import type { Registry } from "prom-client";
import type { CALL_OUTCOMES } from "../../../crds/usage.js";
import type { Caller } from "../../../policy/index.js";
import type { Logger } from "../../../common/log.js";

export interface FinishedCall {
  /** The server's registry name, from its policy. */
  server: string;
  tool: string;
  caller: Caller;
  outcome: (typeof CALL_OUTCOMES)[number];
  durationMs: number;
  /** The declared estimate when the call succeeded, else 0. */
  minutesSaved: number;
}

export interface UsageHook {
  /** Called once per finished call; never throws, never waits. */
  record(call: FinishedCall): void;
  /** Registers its metrics beside the server's and starts delivering. */
  start(context: { registry: Registry; logger: Logger }): Promise<void>;
  /** Stops delivering; what is not delivered stays in the buffer for the next start. */
  close(): Promise<void>;
}
