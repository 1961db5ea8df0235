/**
 * A running registry: the McpServer cache, the catalog on it, the authenticator and the HTTP
 * server, started together and stopped together.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { KubeConfig } from "@kubernetes/client-node";
import { silentLogger, type Logger } from "../runtime/index.js";
import { createRegistryApp } from "./app.js";
import { registryAuthenticator } from "./authenticator.js";
import { Catalog } from "./catalog.js";
import type { RegistryConfig } from "./config.js";
import { watchServers, type ServerCache } from "./server-cache.js";

export interface RunningRegistry {
  url: string;
  port: number;
  catalog: Catalog;
  cache: ServerCache;
  stop(): Promise<void>;
}

export async function startRegistry(config: RegistryConfig, kc: KubeConfig, log: Logger = silentLogger): Promise<RunningRegistry> {
  const authenticator = await registryAuthenticator(config, kc);
  const cache = await watchServers(kc, { namespaces: config.namespaces, log });
  const catalog = new Catalog(cache, {
    registryPrefix: config.registryPrefix,
    clusterDomain: config.clusterDomain,
    verifierServiceAccount: config.verifierServiceAccount,
    log,
  });
  const app = createRegistryApp({
    catalog,
    authenticator,
    roles: { reviewerGroups: config.reviewerGroups, adminGroups: config.adminGroups },
    allowAnonymous: config.allowAnonymous,
    issuer: config.users?.issuer,
    publicUrl: config.publicUrl,
    demoTokensDir: config.demoTokensDir,
    ...(config.uiClientId && config.users ? { uiSignIn: { issuer: config.users.issuer, clientId: config.uiClientId } } : {}),
    health: { live: () => cache.healthy(), ready: () => cache.hasSynced() },
  });
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.port, config.host, (err?: Error) => (err ? reject(err) : resolve(s)));
    });
  } catch (err) {
    await cache.stop();
    throw err;
  }
  server.keepAliveTimeout = 65_000;
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host === "0.0.0.0" ? "127.0.0.1" : config.host;
  return {
    url: config.publicUrl ?? `http://${host}:${port}`,
    port,
    catalog,
    cache,
    async stop() {
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      catalog.close();
      await cache.stop();
    },
  };
}
