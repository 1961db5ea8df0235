export * from "./mcpserver.js";
export { DEFAULT_REVIEWER_GROUPS, REVIEWERS_CONFIGMAP, SYSTEM_NAMESPACE } from "./review-policy.js";
