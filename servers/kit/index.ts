/** The server kit: `export default createDomainServer({ name, version, tools })`. */
export { createDomainServer } from "./server.js";
export type { DomainServer, RunningServer } from "./server.js";
export { ToolDenied } from "./tool.js";
export type { ConfirmContext, DomainServerDefinition, DomainTool, ToolContext, ToolOutput } from "./tool.js";
export { MemoryAuditSink, argsDigest, nullAuditSink, stdoutAuditSink } from "./audit.js";
export type { AuditRecord, AuditSink, CallOutcome, ElicitationOutcome } from "./audit.js";
export { KitConfigError, optionsFromEnv } from "./env.js";
export type { KitOptions } from "./options.js";
export { serve } from "./serve.js";
export type { Caller } from "../../policy/index.js";
export { textTable, cellText } from "./text-table.js";
export type { TextTableOptions } from "./text-table.js";
export { BackendConfigError, oneOf, optionalString, positiveInt, requiredUrl, secret } from "./backend-env.js";
export type { Env } from "./backend-env.js";
export { BackendError, connectionFailure, transportFailure, withDeadline } from "./backend-http.js";
export type { TransportFailure } from "./backend-http.js";
export { errorResult, explainingFailures, textResult } from "./results.js";
