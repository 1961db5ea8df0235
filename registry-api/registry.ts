/**
 * A running registry: the McpServer cache, the catalog on it, the authenticator and the HTTP
 * server, started together and stopped together.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { ConnectionConfig } from "../runtime/index.js";
import { createRegistryApp } from "./app.js";
import { registryAuthenticator } from "./authenticator.js";
import { Catalog } from "./catalog.js";
import type { RegistryConfig } from "./config.js";
import { watchServers, type ServerCache } from "./server-cache.js";
import { openUsageStore } from "./usage/open.js";
import type { UsageStore } from "./usage/store.js";
import { silentLogger, type Logger } from "../common/log.js";

export interface RunningRegistry {
  url: string;
  port: number;
  catalog: Catalog;
  cache: ServerCache;
  usage: UsageStore;
  stop(): Promise<void>;
}

export async function startRegistry(config: RegistryConfig, kc: ConnectionConfig, log: Logger = silentLogger): Promise<RunningRegistry> {
  const authenticator = await registryAuthenticator(config, kc);
  const usage = await openUsageStore(config.usageDatabase, log);
  const cache = await watchServers(kc, { namespaces: config.namespaces, log });
  const catalog = new Catalog(cache, {
    registryPrefix: config.registryPrefix,
    clusterDomain: config.clusterDomain,
    verifierServiceAccount: config.verifierServiceAccount,
    log,
  });
  // Listening first: with port 0 a local run's URL is known only then, and the app is built
  // with the one public URL it will ever use.
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.port, config.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    await cache.stop();
    await usage.close();
    throw err;
  }
  server.keepAliveTimeout = 65_000;
  const port = (server.address() as AddressInfo).port;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = config.publicUrl ?? `http://${host}:${port}`;
  const app = createRegistryApp({
    catalog,
    authenticator,
    roles: { reviewerGroups: config.reviewerGroups, adminGroups: config.adminGroups },
    allowAnonymous: config.allowAnonymous,
    issuer: config.users?.issuer,
    publicUrl: url,
    demoTokensDir: config.demoTokensDir,
    ...(config.uiClientId && config.users ? { uiSignIn: { issuer: config.users.issuer, clientId: config.uiClientId } } : {}),
    health: { live: () => cache.healthy(), ready: () => cache.hasSynced() },
    usage,
    log,
  });
  server.on("request", app);
  return {
    url,
    port,
    catalog,
    cache,
    usage,
    async stop() {
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      catalog.close();
      await cache.stop();
      await usage.close();
    },
  };
}
