/**
 * The shared authenticator, configured for the registry: people's tokens from the configured
 * issuer (JWKS URL or a static JWKS file), and service-account tokens verified against the
 * cluster's own keys, whose issuer is discovered from the API server.
 */
import { readFileSync } from "node:fs";
import type { FetchImplementation, JSONWebKeySet } from "jose";
import type { RequestOptions } from "node:https";
import { createAuthenticator, kubernetesJwksFetch, type Authenticator, type AuthenticatorOptions, type KeySource } from "../auth/index.js";
import { KubeClient, type ConnectionConfig } from "../runtime/index.js";
import type { RegistryConfig } from "./config.js";
import { RegistryConfigError } from "./config.js";

/** The cluster's service-account issuer, from its OIDC discovery document. */
export async function clusterIssuer(client: KubeClient): Promise<string> {
  const doc = (await client.request("GET", "/.well-known/openid-configuration")) as { issuer?: unknown } | undefined;
  if (typeof doc?.issuer !== "string") throw new Error("the API server's /.well-known/openid-configuration names no issuer");
  return doc.issuer;
}

/** The connection's CA, client certificate and bearer token as they are now (token files rotate). */
async function credentialsOf(kc: ConnectionConfig): Promise<RequestOptions & { bearer?: string }> {
  const opts: RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const headers = (opts.headers ?? {}) as Record<string, string | undefined>;
  const bearer = (headers.Authorization ?? headers.authorization)?.replace(/^Bearer\s+/i, "");
  return { ...opts, ...(bearer ? { bearer } : {}) };
}

/**
 * jose fetches the cluster's JWKS from the API server with the kubeconfig's CA and credentials
 * (the issuer's public URL may not be reachable from here, and the keys are not public). The
 * same credentials post TokenReviews; a bearer token is read again for every request, so a
 * projected token the kubelet rotates never goes stale here.
 */
async function clusterJwksFetch(kc: ConnectionConfig): Promise<FetchImplementation> {
  const opts = await credentialsOf(kc);
  if (!opts.ca) throw new RegistryConfigError("--service-account-audience: the kubeconfig names no cluster CA, needed to fetch the cluster's keys");
  return kubernetesJwksFetch({
    ca: opts.ca as string | Buffer,
    ...(opts.bearer ? { bearerToken: async () => (await credentialsOf(kc)).bearer ?? "" } : {}),
    ...(opts.cert && opts.key ? { clientCert: { cert: opts.cert as string | Buffer, key: opts.key as string | Buffer } } : {}),
  });
}

export async function registryAuthenticator(config: RegistryConfig, kc: ConnectionConfig | undefined): Promise<Authenticator | undefined> {
  const options: AuthenticatorOptions = { cacheSize: config.tokenCacheSize };
  if (config.users) {
    let keys: KeySource;
    if (config.users.jwksFile) {
      let jwks: JSONWebKeySet;
      try {
        jwks = JSON.parse(readFileSync(config.users.jwksFile, "utf8")) as JSONWebKeySet;
      } catch (err) {
        throw new RegistryConfigError(`--oidc-jwks-file: cannot read ${config.users.jwksFile}: ${(err as Error).message}`);
      }
      if (!Array.isArray(jwks.keys)) throw new RegistryConfigError(`--oidc-jwks-file: ${config.users.jwksFile} is not a JWKS ({"keys": [...]})`);
      keys = { jwks };
    } else {
      keys = { jwksUrl: config.users.jwksUrl! };
    }
    options.users = {
      issuer: config.users.issuer,
      audience: config.users.audience,
      keys,
      groupsClaim: config.users.groupsClaim,
      clockToleranceSec: config.clockToleranceSec,
    };
  }
  if (config.serviceAccounts) {
    if (!kc) throw new RegistryConfigError("--service-account-audience: needs a kubeconfig (KUBECONFIG) to reach the cluster's keys");
    const client = new KubeClient(kc, { qps: 5, burst: 10, userAgent: "toolfleet-registry-auth" });
    options.serviceAccounts = {
      issuer: await clusterIssuer(client),
      audience: config.serviceAccounts.audience,
      keys: { jwksUrl: new URL("/openid/v1/jwks", client.server), fetch: await clusterJwksFetch(kc) },
      clockToleranceSec: config.clockToleranceSec,
    };
  }
  if (!options.users && !options.serviceAccounts) return undefined;
  return createAuthenticator(options);
}
