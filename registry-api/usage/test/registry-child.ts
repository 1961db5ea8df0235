/**
 * A registry with the usage API as its own process, so a suite can kill it (SIGKILL) mid-run
 * and start it again on the same database and port. The McpServers come from the environment
 * instead of a cluster (the catalog reads any server source), people's and service accounts'
 * tokens from test issuers' JWKS: `node dist/registry-api/usage/test/registry-child.js`.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createAuthenticator } from "../../../auth/index.js";
import { createRegistryApp } from "../../app.js";
import { Catalog } from "../../catalog.js";
import type { CachedServer } from "../../server-cache.js";
import { openUsageStore } from "../open.js";
import { silentLogger } from "../../../common/log.js";

export interface RegistryChildConfig {
  port: number;
  database: { url?: string; file: string };
  registryPrefix: string;
  servers: CachedServer[];
  users: { issuer: string; jwksUrl: string };
  serviceAccounts: { issuer: string; jwksUrl: string };
  audience: string;
  adminGroups: string[];
  reviewerGroups: Record<string, string>;
}

const config = JSON.parse(process.env.TOOLFLEET_TEST_REGISTRY ?? "") as RegistryChildConfig;
const store = await openUsageStore({ ...config.database, retentionDays: 400 }, silentLogger);
const catalog = new Catalog(
  { list: () => config.servers, onChange: () => () => undefined },
  { registryPrefix: config.registryPrefix, clusterDomain: "cluster.local", verifierServiceAccount: "toolfleet-system/toolfleet-operator" },
);
const authenticator = createAuthenticator({
  users: { issuer: config.users.issuer, audience: config.audience, keys: { jwksUrl: config.users.jwksUrl } },
  serviceAccounts: { issuer: config.serviceAccounts.issuer, audience: config.audience, keys: { jwksUrl: config.serviceAccounts.jwksUrl } },
});
const app = createRegistryApp({
  catalog,
  authenticator,
  roles: { reviewerGroups: config.reviewerGroups, adminGroups: config.adminGroups },
  allowAnonymous: false,
  publicUrl: `http://127.0.0.1:${config.port}`,
  health: { live: () => true, ready: () => true },
  usage: store,
});
const server = createServer(app).listen(config.port, "127.0.0.1", () => {
  process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
});
process.on("SIGTERM", () => server.close(() => void store.close().then(() => process.exit(0))));
