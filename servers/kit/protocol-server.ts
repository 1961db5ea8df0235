/**
 * The MCP face of a kit server, written once for both protocol revisions: tools/list filtered
 * by the caller's access, tools/call through calls.ts. Only the way a sensitive call is
 * confirmed differs by revision (confirmation.ts). A 2026 server lives for one request; a 2025
 * one for a session.
 */
import { Server } from "@modelcontextprotocol/server";
import { isVerifier, visibleTools } from "../../policy/index.js";
import { callTool, type CallDependencies } from "./calls.js";
import { callerOf } from "./caller.js";
import type { EffectivePolicy } from "./catalog.js";
import { elicitationConfirmation, inputRequiredConfirmation, type InputRequiredOptions } from "./confirmation.js";

export interface ProtocolDependencies extends CallDependencies {
  version: string;
  instructions?: string;
  policy: () => EffectivePolicy | undefined;
  confirmations: InputRequiredOptions;
}

export type Era = "modern" | "legacy";

export function createProtocolServer(deps: ProtocolDependencies, era: Era): Server {
  const server = new Server(
    { name: deps.serverName, version: deps.version },
    { capabilities: { tools: { listChanged: true } }, ...(deps.instructions ? { instructions: deps.instructions } : {}) },
  );
  server.setRequestHandler("tools/list", (_request, ctx) => {
    const effective = deps.policy();
    if (!effective) return { tools: [] };
    const caller = callerOf(ctx.http?.authInfo);
    // The verifier sees every implemented tool, declared or not: that is what it checks.
    if (isVerifier(effective.policy, caller)) return { tools: deps.catalog.allDescriptors() };
    return { tools: visibleTools(effective.policy, caller).map((t) => deps.catalog.entries.get(t.name)!.descriptor) };
  });
  server.setRequestHandler("tools/call", async (request, ctx) => {
    const effective = deps.policy();
    if (!effective) throw new Error("no policy loaded");
    const elicitation = server.getClientCapabilities()?.elicitation;
    // `elicitation: {}` predates modes and means form; a URL-only client cannot show a form.
    const canAsk = elicitation !== undefined && !(elicitation.url !== undefined && elicitation.form === undefined);
    const onError = (err: unknown) => deps.logger.warn("confirmation request failed", { tool: request.params.name, error: err as Error });
    return callTool(deps, effective, {
      caller: callerOf(ctx.http?.authInfo),
      tool: request.params.name,
      args: request.params.arguments,
      sessionId: ctx.sessionId,
      signal: ctx.mcpReq.signal,
      confirmation:
        era === "modern"
          ? inputRequiredConfirmation(ctx, canAsk, deps.confirmations)
          : elicitationConfirmation(ctx, canAsk, deps.elicitationTimeoutMs, onError),
    });
  });
  return server;
}
