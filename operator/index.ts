/** The McpServer operator, and the McpServer cache other components reuse. */
export { watchMcpServers, type McpServerCacheOptions } from "./mcpserver-cache.js";
export { McpServerType, type McpServerObject } from "./mcpserver-type.js";
export { startOperator, type RunningOperator, type StartOptions } from "./operator.js";
export { loadConfig, type OperatorConfig } from "./config.js";
export { specHash } from "./spec-hash.js";
export { evaluateReview } from "./review-gate.js";
export * from "./names.js";
