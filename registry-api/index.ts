/** The registry API: its app, its runner, its configuration, and the demo people of the local identity provider. */
export { createRegistryApp, type RegistryAppOptions } from "./app.js";
export { startRegistry, type RunningRegistry } from "./registry.js";
export { loadRegistryConfig, RegistryConfigError, type RegistryConfig } from "./config.js";
export { Catalog, type CatalogEntry, type ServerSource } from "./catalog.js";
export { watchServers, type CachedServer, type ServerCache } from "./server-cache.js";
export { CLI_CLIENT_ID, DEMO_PEOPLE, MCP_AUDIENCE, REGISTRY_AUDIENCE, UI_CLIENT_ID, type DemoPerson } from "./demo-identity.js";
