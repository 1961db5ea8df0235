export { ServerPolicy, ServerPolicyError, parseServerPolicy } from "./server-policy.js";
export { registryName, serverPolicy, type PolicyNaming } from "./from-mcpserver.js";
export type { PolicyIssue, ServerPolicyInput } from "./server-policy.js";
export { callerName, decideServerAccess, decideToolAccess, isVerifier, visibleTools } from "./decide.js";
export type { Caller, Decision, DecisionCode } from "./decide.js";
