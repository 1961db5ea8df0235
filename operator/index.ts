/** The McpServer operator. What other components share of an McpServer lives in mcpserver/. */
export { startOperator, type RunningOperator, type StartOptions } from "./operator.js";
export { loadConfig, type OperatorConfig } from "./config.js";
export { specHash } from "./spec-hash.js";
export { evaluateReview } from "./review-gate.js";
