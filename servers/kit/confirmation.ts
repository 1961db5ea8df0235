/**
 * How a sensitive tool's call is confirmed by a person, in each protocol revision.
 *
 * 2025-11-25: the server asks on the call's own stream (`elicitation/create`) and waits; the
 * answer can only belong to this call, so it needs no further binding.
 *
 * 2026-07-28: the server answers the call with an input-required result carrying a sealed
 * request state, and the client sends the call again with the person's answer and that state.
 * The state binds the answer to the caller, the tool, the exact arguments (their SHA-256), an
 * expiry and a nonce, and names the replica that asked. Any replica can check the seal, but
 * single use needs one place that remembers which nonces were spent: the asking replica. The
 * HTTP layer forwards a retry to the replica named in its (sealed, so unforgeable) state, and
 * that replica spends the nonce in a local set kept until the state's expiry. So a replay
 * lands, whatever the balancer does, at the one replica that already spent it, and is refused;
 * if that replica is gone the answer cannot be used at all and the person is asked again. No
 * store is shared, and no window is left in which an answer runs a tool twice.
 */
import { createHash, randomBytes } from "node:crypto";
import { inputRequired, inputResponse, SdkError, SdkErrorCode, type InputRequiredResult, type ServerContext } from "@modelcontextprotocol/server";
import { z } from "zod";
import type { ElicitationOutcome } from "./audit.js";
import { canonicalJson } from "../../common/canonical-json.js";
import type { ReplicaSeal } from "./replicas.js";

/** What asking gave: the person's answer, a question to send back (2026), or why it failed. */
export type ConfirmStep =
  | { answer: ElicitationOutcome; detail?: string }
  | { ask: InputRequiredResult }
  | { failed: string };

export interface Confirmation {
  /** Whether the client declared it can show a person a form. */
  supported: boolean;
  /** `message` is only built when the person is actually asked (it may look things up). */
  confirm(tool: string, args: unknown, callerKey: string, message: () => Promise<string>): Promise<ConfirmStep>;
}

const FORM = { type: "object" as const, properties: {} };

/** 2025: an elicitation on the call's stream, waited for up to `timeoutMs`. */
export function elicitationConfirmation(ctx: ServerContext, supported: boolean, timeoutMs: number, onError: (err: unknown) => void): Confirmation {
  return {
    supported,
    async confirm(_tool, _args, _caller, message) {
      let text: string;
      try {
        text = await message();
      } catch (err) {
        return { failed: err instanceof Error ? err.message : String(err) };
      }
      try {
        const answer = await ctx.mcpReq.elicitInput({ mode: "form", message: text, requestedSchema: FORM }, { timeout: timeoutMs, signal: ctx.mcpReq.signal });
        return { answer: answer.action };
      } catch (err) {
        if (err instanceof SdkError && err.code === SdkErrorCode.RequestTimeout) return { answer: "timeout" };
        onError(err);
        return { answer: "error" };
      }
    },
  };
}

const STATE = "confirmation";
const StateClaim = z.object({ r: z.string(), n: z.string(), c: z.string(), t: z.string(), a: z.string(), e: z.number() });
const ANSWER_KEY = "confirm";

const digest = (s: string) => createHash("sha256").update(s).digest("base64url");

/** The replica named in a 2026 request state, if a replica sealed it; the HTTP layer routes on it. */
export function confirmationReplica(seal: ReplicaSeal, requestState: string): string | undefined {
  const claim = StateClaim.safeParse(seal.open(STATE, requestState));
  return claim.success ? claim.data.r : undefined;
}

/** This replica's spent nonces, each kept until its state expires (after which the seal refuses it anyway). */
export class SpentAnswers {
  private readonly spent = new Map<string, number>();

  constructor(private readonly limit = 100_000) {}

  /** True the first time a nonce is spent; false for a replay, or when full (fail closed). */
  spend(nonce: string, expiresAt: number, now = Date.now()): boolean {
    if (this.spent.has(nonce)) return false;
    if (this.spent.size >= this.limit) {
      for (const [n, e] of this.spent) if (e <= now) this.spent.delete(n);
      if (this.spent.size >= this.limit) return false;
    }
    this.spent.set(nonce, expiresAt);
    return true;
  }

  get size(): number {
    return this.spent.size;
  }
}

export interface InputRequiredOptions {
  seal: ReplicaSeal;
  spent: SpentAnswers;
  /** How long the person has to answer. */
  ttlMs: number;
}

/** 2026: ask by returning input-required; on the retry, check the sealed state, then the answer. */
export function inputRequiredConfirmation(ctx: ServerContext, supported: boolean, options: InputRequiredOptions): Confirmation {
  return {
    supported,
    async confirm(tool, args, callerKey, message) {
      const state = ctx.mcpReq.requestState<unknown>();
      if (state === undefined) {
        let text: string;
        try {
          text = await message();
        } catch (err) {
          return { failed: err instanceof Error ? err.message : String(err) };
        }
        const claim: z.infer<typeof StateClaim> = {
          r: options.seal.self ?? "",
          n: randomBytes(16).toString("base64url"),
          c: digest(callerKey),
          t: tool,
          a: digest(canonicalJson(args ?? {})),
          e: Date.now() + options.ttlMs,
        };
        return {
          ask: inputRequired({
            inputRequests: { [ANSWER_KEY]: inputRequired.elicit({ mode: "form", message: text, requestedSchema: FORM }) },
            requestState: options.seal.seal(STATE, claim),
          }),
        };
      }
      const refused = (detail: string): ConfirmStep => ({ answer: "invalid", detail });
      const claim = StateClaim.safeParse(typeof state === "string" ? options.seal.open(STATE, state) : undefined);
      if (!claim.success) return refused("the confirmation's state was not issued by this server or was altered");
      const c = claim.data;
      if (c.c !== digest(callerKey)) return refused("the confirmation was given to another caller");
      if (c.t !== tool || c.a !== digest(canonicalJson(args ?? {}))) return refused("the confirmation was for another tool or other arguments");
      if (c.e <= Date.now()) return refused("the confirmation has expired; call again to be asked again");
      if (!options.seal.isSelf(c.r)) return refused("the confirmation was asked for by another replica, which cannot be reached; call again");
      // Spent before the answer is read: a declined answer cannot be replayed either.
      if (!options.spent.spend(c.n, c.e)) return refused("the confirmation was already used");
      const answer = inputResponse(ctx.mcpReq.inputResponses, ANSWER_KEY);
      if (answer.kind !== "elicit") return refused("the retry carried no answer to the confirmation");
      return { answer: answer.action };
    },
  };
}
