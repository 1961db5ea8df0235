/** The registry API: its app, its runner, its configuration, and the local run's demo identity. */
export { createRegistryApp, type RegistryAppOptions } from "./app.js";
export { startRegistry, type RunningRegistry } from "./registry.js";
export { loadRegistryConfig, RegistryConfigError, type RegistryConfig } from "./config.js";
export { Catalog, type CatalogEntry, type ServerSource } from "./catalog.js";
export { watchServers, type CachedServer, type ServerCache } from "./server-cache.js";
export { ensureDemoIdentity, DEMO_AUDIENCE, DEMO_ISSUER, DEMO_PEOPLE, type DemoIdentity, type DemoPerson } from "./demo-identity.js";
