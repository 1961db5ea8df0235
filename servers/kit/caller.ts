/**
 * The authenticated caller on its way from the HTTP layer to the MCP handlers: it rides in the
 * SDK's AuthInfo, and `callerKey` is the one name by which sessions and confirmations are bound
 * to it.
 */
import type { AuthInfo } from "@modelcontextprotocol/server";
import { callerName, type Caller } from "../../policy/index.js";

export const callerKey = (caller: Caller) => `${caller.kind}:${callerName(caller)}`;

export function authInfoFor(caller: Caller, token: string, expiresAt: number): AuthInfo {
  return { token, clientId: callerName(caller), scopes: [], expiresAt, extra: { caller } };
}

export function callerOf(authInfo: AuthInfo | undefined): Caller {
  const caller = authInfo?.extra?.caller as Caller | undefined;
  // The HTTP layer authenticates every request before the SDK sees it; this cannot happen.
  if (!caller) throw new Error("request reached the MCP server unauthenticated");
  return caller;
}
