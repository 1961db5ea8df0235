/**
 * The McpServer as every component sees it: its cached type, the names, labels and URLs of what
 * it becomes, its registry name, the shared settings and a watched cache of them. The operator and
 * the registry are siblings that both build on this module; neither imports the other.
 */
export { McpServerType, type McpServerObject } from "./type.js";
export { watchMcpServers, type McpServerCacheOptions } from "./watch.js";
export * from "./names.js";
export * from "./settings.js";
