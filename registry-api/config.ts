/**
 * The registry's configuration, from flags (`--name=value`) or environment variables; flags
 * win. Every bad value is refused at start with the flag's name and what it accepts.
 */
import { DEFAULT_CLUSTER_DOMAIN, DEFAULT_REGISTRY_PREFIX, DEFAULT_VERIFIER_SERVICE_ACCOUNT } from "../mcpserver/index.js";
import { DEFAULT_REVIEWER_GROUPS, SERVICE_ACCOUNT_REF } from "../crds/index.js";
import { commaList, defineFlags, type Flag } from "../runtime/index.js";
import { checkKeySetUrl, isLoopbackHost } from "../auth/index.js";
import { homedir } from "node:os";
import { join } from "node:path";

export interface RegistryConfig {
  port: number;
  host: string;
  /**
   * The URL people and clients use to reach the registry, put in 401 challenges and the
   * protected-resource metadata. Required unless the registry listens on loopback only (a local
   * run: nobody else can reach it), when it is http://<host>:<port>. Never taken from a request.
   */
  publicUrl?: string;
  /** Namespaces to serve; empty means every namespace. */
  namespaces: string[];
  /** Registry names are `<prefix>.<namespace>/<name>`, as the operator writes them. */
  registryPrefix: string;
  /** People's tokens; unset means people cannot sign in (service accounts only). */
  users?: {
    issuer: string;
    audience: string[];
    /** Exactly one of jwksUrl and jwksFile. */
    jwksUrl?: string;
    jwksFile?: string;
    groupsClaim: string;
  };
  /** Accept Kubernetes service-account tokens for this audience, verified against the cluster's keys. */
  serviceAccounts?: { audience: string[] };
  clockToleranceSec: number;
  /** Verified tokens remembered until they expire (at most 60 s); 0 verifies every request's signature. */
  tokenCacheSize: number;
  /** Review area → the group whose members review it. */
  reviewerGroups: Record<string, string>;
  /** Groups that see and may inspect everything. */
  adminGroups: string[];
  /** The operator's verifier service account, as the operator names it in every server's policy. */
  verifierServiceAccount: string;
  clusterDomain: string;
  /** Serve callers without a token as a person in no group. */
  allowAnonymous: boolean;
  /** The UI's local login lists the tokens in this folder (tests only). */
  demoTokensDir?: string;
  /** The provider's client for the UI's sign-in (authorization code with PKCE); needs users. */
  uiClientId?: string;
  logLevel: "debug" | "info" | "warn" | "error";
  /** Usage records and feedback: PostgreSQL when `url` is set, else SQLite in `file`. */
  usageDatabase: { url?: string; file: string; retentionDays: number };
}

const DEFAULT_DATABASE_FILE = join(homedir(), ".local", "state", "toolfleet", "registry-usage.sqlite");

export class RegistryConfigError extends Error {
  override readonly name = "RegistryConfigError";
}

const FLAGS = {
  port: { flag: "port", env: "REGISTRY_PORT", help: "listen port (default 8080)" },
  host: { flag: "host", env: "REGISTRY_HOST", help: "listen address (default 127.0.0.1)" },
  publicUrl: { flag: "public-url", env: "REGISTRY_PUBLIC_URL", help: "the URL clients use; required unless --host is loopback (then http://<host>:<port>)" },
  namespaces: { flag: "namespaces", env: "TOOLFLEET_NAMESPACES", help: "comma-separated namespaces to serve; empty for all" },
  registryPrefix: { flag: "registry-prefix", env: "TOOLFLEET_REGISTRY_PREFIX", help: `registry name prefix (default ${DEFAULT_REGISTRY_PREFIX}, as the operator)` },
  issuer: { flag: "oidc-issuer", env: "REGISTRY_OIDC_ISSUER", help: "issuer of people's tokens" },
  audience: { flag: "oidc-audience", env: "REGISTRY_OIDC_AUDIENCE", help: "comma-separated audiences people's tokens must carry" },
  jwksUrl: { flag: "oidc-jwks-url", env: "REGISTRY_OIDC_JWKS_URL", help: "JWKS URL of the issuer" },
  jwksFile: { flag: "oidc-jwks-file", env: "REGISTRY_OIDC_JWKS_FILE", help: "a static JWKS file instead of a URL" },
  groupsClaim: { flag: "groups-claim", env: "REGISTRY_GROUPS_CLAIM", help: "token claim with the groups (default groups; dotted paths allowed)" },
  saAudience: { flag: "service-account-audience", env: "REGISTRY_SERVICE_ACCOUNT_AUDIENCE", help: "accept service-account tokens for these audiences; unset: refuse them" },
  clockTolerance: { flag: "clock-tolerance", env: "REGISTRY_CLOCK_TOLERANCE", help: "seconds of clock skew allowed on exp/nbf (default 30)" },
  tokenCache: { flag: "token-cache-size", env: "REGISTRY_TOKEN_CACHE_SIZE", help: "verified tokens remembered (default 10000; 0 verifies every request)" },
  reviewerGroups: { flag: "reviewer-groups", env: "TOOLFLEET_REVIEWER_GROUPS", help: "area=group,... (default the review gate's groups)" },
  adminGroups: { flag: "admin-groups", env: "REGISTRY_ADMIN_GROUPS", help: "comma-separated groups that see everything (default toolfleet:admins)" },
  verifier: { flag: "verifier-service-account", env: "TOOLFLEET_VERIFIER_SERVICE_ACCOUNT", help: `the operator's verifier, namespace/name (default ${DEFAULT_VERIFIER_SERVICE_ACCOUNT})` },
  clusterDomain: { flag: "cluster-domain", env: "TOOLFLEET_CLUSTER_DOMAIN", help: `cluster DNS domain (default ${DEFAULT_CLUSTER_DOMAIN})` },
  anonymous: { flag: "allow-anonymous", env: "REGISTRY_ALLOW_ANONYMOUS", help: "true to serve callers without a token as a person in no group (default false)" },
  demoTokens: { flag: "demo-tokens-dir", env: "REGISTRY_DEMO_TOKENS_DIR", help: "enables the UI's local login with the tokens in this folder (tests only)" },
  uiClientId: { flag: "ui-client-id", env: "REGISTRY_UI_CLIENT_ID", help: "the OIDC client the web UI signs people in with (authorization code + PKCE); needs --oidc-issuer" },
  logLevel: { flag: "log-level", env: "REGISTRY_LOG_LEVEL", help: "debug, info, warn or error (default info)" },
  // Usage and impact (registry-api/usage/).
  databaseUrl: { flag: "database-url", env: "REGISTRY_DATABASE_URL", help: "postgres://… for usage and feedback; unset: embedded SQLite in --database-file" },
  databaseFile: { flag: "database-file", env: "REGISTRY_DATABASE_FILE", help: `the SQLite file (default ${DEFAULT_DATABASE_FILE})` },
  retentionDays: { flag: "usage-retention-days", env: "REGISTRY_USAGE_RETENTION_DAYS", help: "days raw usage records are kept; daily roll-ups stay (default 400)" },
} satisfies Record<string, Flag>;

/** An absolute http(s) URL with no query or fragment, without a trailing slash. */
function checkPublicUrl(value: string): string {
  const problem = `--${FLAGS.publicUrl.flag} (${FLAGS.publicUrl.env}): "${value}"`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new RegistryConfigError(`${problem} is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new RegistryConfigError(`${problem} is not an http(s) URL`);
  if (url.search || url.hash || url.username || url.password) throw new RegistryConfigError(`${problem} must have no query, fragment or credentials`);
  return url.href.replace(/\/+$/, "");
}

/** The key set decides which tokens pass: https, or http only to loopback (auth/key-url.ts). */
function keySetUrl(value: string): void {
  try {
    checkKeySetUrl(value, `--${FLAGS.jwksUrl.flag} (${FLAGS.jwksUrl.env})`);
  } catch (err) {
    throw new RegistryConfigError((err as Error).message);
  }
}

const flags = defineFlags("the registry", FLAGS, (message) => new RegistryConfigError(message));
export const usage = flags.usage;

function parseInteger(value: string, f: Flag, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new RegistryConfigError(`--${f.flag} (${f.env}): "${value}" must be an integer from ${min} to ${max}`);
  return n;
}

export function loadRegistryConfig(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): RegistryConfig {
  const read = flags.read(argv, env);
  // Here an empty value means unset, so the default applies.
  const get = (f: Flag): string | undefined => read(f) || undefined;

  const reviewerGroups: Record<string, string> = { ...DEFAULT_REVIEWER_GROUPS };
  for (const pair of commaList(get(FLAGS.reviewerGroups))) {
    const [area, group] = pair.split("=");
    if (!area?.trim() || !group?.trim()) throw new RegistryConfigError(`--reviewer-groups: "${pair}" is not area=group`);
    reviewerGroups[area.trim()] = group.trim();
  }

  const issuer = get(FLAGS.issuer);
  const jwksUrl = get(FLAGS.jwksUrl);
  const jwksFile = get(FLAGS.jwksFile);
  const audience = commaList(get(FLAGS.audience));
  let users: RegistryConfig["users"];
  if (issuer !== undefined) {
    if (audience.length === 0) throw new RegistryConfigError(`--${FLAGS.audience.flag} (${FLAGS.audience.env}): required with --${FLAGS.issuer.flag}`);
    if ((jwksUrl === undefined) === (jwksFile === undefined)) {
      throw new RegistryConfigError(`--${FLAGS.jwksUrl.flag} or --${FLAGS.jwksFile.flag}: set exactly one with --${FLAGS.issuer.flag}`);
    }
    if (jwksUrl !== undefined) keySetUrl(jwksUrl);
    users = { issuer, audience, jwksUrl, jwksFile, groupsClaim: get(FLAGS.groupsClaim) ?? "groups" };
  } else if (jwksUrl !== undefined || jwksFile !== undefined) {
    throw new RegistryConfigError(`--${FLAGS.issuer.flag} (${FLAGS.issuer.env}): required with a JWKS`);
  }

  const uiClientId = get(FLAGS.uiClientId);
  if (uiClientId !== undefined && !users) throw new RegistryConfigError(`--${FLAGS.uiClientId.flag} (${FLAGS.uiClientId.env}): needs --${FLAGS.issuer.flag}, the provider people sign in with`);
  const saAudience = commaList(get(FLAGS.saAudience));
  const verifier = get(FLAGS.verifier) ?? DEFAULT_VERIFIER_SERVICE_ACCOUNT;
  if (!new RegExp(SERVICE_ACCOUNT_REF).test(verifier)) throw new RegistryConfigError(`--${FLAGS.verifier.flag}: "${verifier}" is not namespace/name`);
  const logLevel = get(FLAGS.logLevel) ?? "info";
  if (!["debug", "info", "warn", "error"].includes(logLevel)) throw new RegistryConfigError(`--log-level: "${logLevel}" is not debug, info, warn or error`);

  const allowAnonymous = flags.bool(get(FLAGS.anonymous) ?? "false", `${FLAGS.anonymous.flag} (${FLAGS.anonymous.env})`);
  if (!users && saAudience.length === 0 && !allowAnonymous) {
    throw new RegistryConfigError(
      `no caller could ever be served: set --${FLAGS.issuer.flag} (people), --${FLAGS.saAudience.flag} (service accounts) or --${FLAGS.anonymous.flag}=true`,
    );
  }
  const host = get(FLAGS.host) ?? "127.0.0.1";
  const publicUrl = get(FLAGS.publicUrl);
  if (publicUrl === undefined && !isLoopbackHost(host)) {
    throw new RegistryConfigError(
      `--${FLAGS.publicUrl.flag} (${FLAGS.publicUrl.env}): required when listening on ${host}, which others can reach; it is what 401 challenges point callers to`,
    );
  }
  return {
    port: parseInteger(get(FLAGS.port) ?? "8080", FLAGS.port, 0, 65535),
    host,
    publicUrl: publicUrl === undefined ? undefined : checkPublicUrl(publicUrl),
    namespaces: commaList(get(FLAGS.namespaces)),
    registryPrefix: get(FLAGS.registryPrefix) ?? DEFAULT_REGISTRY_PREFIX,
    users,
    serviceAccounts: saAudience.length > 0 ? { audience: saAudience } : undefined,
    clockToleranceSec: parseInteger(get(FLAGS.clockTolerance) ?? "30", FLAGS.clockTolerance, 0, 600),
    tokenCacheSize: parseInteger(get(FLAGS.tokenCache) ?? "10000", FLAGS.tokenCache, 0, 1_000_000),
    reviewerGroups,
    adminGroups: commaList(get(FLAGS.adminGroups) ?? "toolfleet:admins"),
    verifierServiceAccount: verifier,
    clusterDomain: get(FLAGS.clusterDomain) ?? DEFAULT_CLUSTER_DOMAIN,
    allowAnonymous,
    demoTokensDir: get(FLAGS.demoTokens),
    uiClientId,
    logLevel: logLevel as RegistryConfig["logLevel"],
    usageDatabase: usageDatabase(get),
  };
}

function usageDatabase(get: (f: Flag) => string | undefined): RegistryConfig["usageDatabase"] {
  const url = get(FLAGS.databaseUrl);
  if (url !== undefined && !/^postgres(ql)?:\/\//.test(url)) throw new RegistryConfigError(`--${FLAGS.databaseUrl.flag} (${FLAGS.databaseUrl.env}): must be a postgres:// or postgresql:// URL`);
  return {
    ...(url !== undefined ? { url } : {}),
    file: get(FLAGS.databaseFile) ?? DEFAULT_DATABASE_FILE,
    retentionDays: parseInteger(get(FLAGS.retentionDays) ?? "400", FLAGS.retentionDays, 1, 36_500),
  };
}
