/**
 * What a server team writes: tools with a zod input, flags that feed the policy, an optional
 * confirmation text for sensitive tools, and a handler. The handler gets the caller, a logger,
 * the request's abort signal and `authorize` for rules that depend on the data.
 */
import type { CallToolResult } from "@modelcontextprotocol/server";
import type { z } from "zod";
import type { Caller } from "../../policy/index.js";
import type { Logger } from "../../common/log.js";

export interface ToolContext {
  caller: Caller;
  logger: Logger;
  /** Aborted when the client cancels the call or the server shuts down. */
  signal: AbortSignal;
  /**
   * Stops the call as denied (audited and counted so) unless `check` holds, e.g.
   * `ctx.authorize((c) => c.kind === "user" && c.groups.includes("finance"), "revenue tables are finance-only")`.
   */
  authorize(check: boolean | ((caller: Caller) => boolean), reason: string): void;
}

/** What a confirmation may use to look things up: who is asking, and the call's abort signal. */
export interface ConfirmContext {
  caller: Caller;
  signal: AbortSignal;
}

/** Text, or a full MCP tool result (structured content, isError, …). */
export type ToolOutput = string | CallToolResult;

export type ToolInput = z.ZodObject<z.ZodRawShape>;

export interface DomainTool<I = ToolInput> {
  name: string;
  title?: string;
  description: string;
  /** The arguments; omitted means none. */
  input?: I & ToolInput;
  /** Only reads. The policy's flag decides; the kit takes the stricter of the two. */
  readOnly?: boolean;
  /** A person confirms every call. Sensitive in the code or in the policy means sensitive. */
  sensitive?: boolean;
  /**
   * What the person is asked to confirm; say exactly what will happen. It may look things up
   * (which tasks a clear would reset, which query a cancel would stop); if it throws, nothing
   * is asked and nothing runs, and the call fails with its message.
   */
  confirm?: (args: ArgsOf<I>, ctx: ConfirmContext) => string | Promise<string>;
  handler: (args: ArgsOf<I>, ctx: ToolContext) => Promise<ToolOutput> | ToolOutput;
}

/** A tool without `input` takes no arguments. */
export type ArgsOf<I> = I extends ToolInput ? z.output<I> : Record<string, never>;

export interface DomainServerDefinition<Inputs extends readonly unknown[] = readonly unknown[]> {
  name: string;
  version: string;
  /** Shown to clients at initialize. */
  instructions?: string;
  /** Each tool's handler and confirm get the arguments its own `input` describes. */
  tools: { [K in keyof Inputs]: DomainTool<Inputs[K]> };
}

/** Thrown by `ctx.authorize`; the kit turns it into a denied result. */
export class ToolDenied extends Error {
  override readonly name = "ToolDenied";
  constructor(readonly reason: string) {
    super(reason);
  }
}
