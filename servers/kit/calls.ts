/**
 * One tools/call, start to end: decide (the shared policy module), confirm with a person if
 * the tool is sensitive, validate, run, then count and audit whatever happened. Every path
 * out of here — denied, declined, invalid, failed, succeeded — is audited exactly once. The
 * one answer that is not an end is a 2026 client being asked to confirm (input-required): the
 * call ends, and is audited, when the client sends it again with the person's answer.
 */
import { performance } from "node:perf_hooks";
import type { CallToolResult, InputRequiredResult } from "@modelcontextprotocol/server";
import type { ToolSpec } from "../../crds/index.js";
import { callerName, decideToolAccess, type Caller } from "../../policy/index.js";
import { callerKey } from "./caller.js";
import { argsDigest, type AuditSink, type CallOutcome, type ElicitationOutcome } from "./audit.js";
import type { CatalogEntry, EffectivePolicy, ToolCatalog } from "./catalog.js";
import type { ConfirmStep, Confirmation } from "./confirmation.js";
import type { KitMetrics } from "./metrics.js";
import { ToolDenied, type ToolContext, type ToolOutput } from "./tool.js";
import type { UsageHook } from "./usage/call.js";
import type { Logger } from "../../common/log.js";

export interface CallDependencies {
  serverName: string;
  catalog: ToolCatalog;
  metrics: KitMetrics;
  audit: AuditSink;
  logger: Logger;
  elicitationTimeoutMs: number;
  usage?: UsageHook;
}

export interface CallRequest {
  caller: Caller;
  tool: string;
  args: unknown;
  sessionId: string | undefined;
  signal: AbortSignal;
  /** How this call's protocol revision asks a person (confirmation.ts). */
  confirmation: Confirmation;
}

interface Verdict {
  decision: "allow" | "deny";
  reason: string;
  outcome: CallOutcome;
  elicitation?: ElicitationOutcome;
  result: CallToolResult;
}

/** The call is not over: the client must ask the person and call again. */
interface Asking {
  asking: InputRequiredResult;
}

const text = (t: string, isError = false): CallToolResult => ({ content: [{ type: "text", text: t }], ...(isError ? { isError } : {}) });

export async function callTool(deps: CallDependencies, effective: EffectivePolicy, req: CallRequest): Promise<CallToolResult | InputRequiredResult> {
  const started = performance.now();
  deps.metrics.callerSeen(req.caller);
  const entry = deps.catalog.entries.get(req.tool);
  const spec = effective.tools.get(req.tool);
  const verdict = await decideAndRun(deps, effective, req, entry, spec);
  if ("asking" in verdict) return verdict.asking;
  const seconds = (performance.now() - started) / 1000;
  // An unknown name is the caller's free text: keep it out of metric labels.
  const label = entry ? req.tool : "(unknown)";
  deps.metrics.callFinished(label, verdict.outcome, seconds, spec?.minutesSaved ?? 0);
  const minutesSaved = verdict.outcome === "ok" ? (spec?.minutesSaved ?? 0) : 0;
  deps.usage?.record({ server: effective.policy.server.registryName, tool: label, caller: req.caller, outcome: verdict.outcome, durationMs: seconds * 1000, minutesSaved });
  deps.audit.write({
    time: new Date().toISOString(),
    server: deps.serverName,
    ...(req.sessionId ? { session: req.sessionId } : {}),
    caller: req.caller.kind === "user" ? { kind: "user", subject: req.caller.subject } : { kind: "serviceAccount", serviceAccount: callerName(req.caller) },
    groups: req.caller.kind === "user" ? req.caller.groups : [],
    tool: req.tool,
    decision: verdict.decision,
    reason: verdict.reason,
    outcome: verdict.outcome,
    ...(verdict.elicitation ? { elicitation: verdict.elicitation } : {}),
    durationMs: Math.round(seconds * 1e6) / 1e3,
    argsSha256: argsDigest(req.args ?? {}),
  });
  return verdict.result;
}

async function decideAndRun(
  deps: CallDependencies,
  effective: EffectivePolicy,
  req: CallRequest,
  entry: CatalogEntry | undefined,
  spec: ToolSpec | undefined,
): Promise<Verdict | Asking> {
  const decision = decideToolAccess(effective.policy, req.caller, req.tool);
  if (!decision.allowed || !entry || !spec) {
    const reason = decision.allowed ? `tool ${req.tool} is not implemented by this server` : decision.reason;
    return { decision: "deny", reason, outcome: "denied", result: text(`Denied: ${reason}`, true) };
  }
  const parsed = entry.input.safeParse(req.args ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "arguments"}: ${i.message}`).join("; ");
    return { decision: "allow", reason: decision.reason, outcome: "error", result: text(`Invalid arguments for ${req.tool}: ${problems}`, true) };
  }
  const args = parsed.data;
  let elicitation: ElicitationOutcome | undefined;
  if (spec.sensitive) {
    const asked = await confirmWithPerson(req, entry, args);
    if ("ask" in asked) return { asking: asked.ask };
    if ("failed" in asked) {
      const reason = `could not prepare the confirmation: ${asked.failed}`;
      return { decision: "allow", reason, outcome: "error", result: text(`Not run: ${req.tool} ${reason}`, true) };
    }
    elicitation = asked.answer;
    deps.metrics.elicited(req.tool, elicitation);
    if (elicitation !== "accept") {
      const why = asked.detail ? `${NOT_CONFIRMED[elicitation]}: ${asked.detail}` : NOT_CONFIRMED[elicitation];
      return { decision: "allow", reason: why, outcome: "declined", elicitation, result: text(`Not run: ${req.tool} ${why}.`, true) };
    }
  }
  const logger = deps.logger.child({ tool: req.tool, caller: callerName(req.caller) });
  const ctx: ToolContext = {
    caller: req.caller,
    logger,
    signal: req.signal,
    authorize(check, reason) {
      const holds = typeof check === "function" ? check(req.caller) : check;
      if (!holds) throw new ToolDenied(reason);
    },
  };
  const base = { decision: "allow" as const, reason: decision.reason, ...(elicitation ? { elicitation } : {}) };
  try {
    const result = toResult(await entry.tool.handler(args, ctx));
    return { ...base, outcome: result.isError ? "error" : "ok", result };
  } catch (err) {
    if (err instanceof ToolDenied) {
      return { ...base, decision: "deny", reason: err.reason, outcome: "denied", result: text(`Denied: ${err.reason}`, true) };
    }
    logger.warn("tool failed", { error: err as Error });
    return { ...base, outcome: "error", result: text(`Error: ${(err as Error).message ?? String(err)}`, true) };
  }
}

const NOT_CONFIRMED: Record<Exclude<ElicitationOutcome, "accept">, string> = {
  decline: "was declined by the person asked to confirm it",
  cancel: "was cancelled by the person asked to confirm it",
  timeout: "was not confirmed in time",
  unsupported: "needs a person to confirm it, and this client cannot ask (it does not support elicitation)",
  error: "could not be confirmed: asking the person failed",
  invalid: "was not run: its confirmation is not valid",
};

/** The person's answer, the question to send back (2026), or why it could not be asked. */
async function confirmWithPerson(req: CallRequest, entry: CatalogEntry, args: Record<string, unknown>): Promise<ConfirmStep> {
  // Checked first, so a client that cannot ask costs the backend no look-up.
  if (!req.confirmation.supported) return { answer: "unsupported" };
  const message = async () =>
    entry.tool.confirm ? await entry.tool.confirm(args as never, { caller: req.caller, signal: req.signal }) : `Run ${req.tool} with ${JSON.stringify(args)}?`;
  return req.confirmation.confirm(req.tool, args, callerKey(req.caller), message);
}

function toResult(output: ToolOutput): CallToolResult {
  return typeof output === "string" ? text(output) : output;
}

