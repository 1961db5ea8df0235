/**
 * The operator's configuration, from flags (`--name=value`) or environment variables
 * (`TOOLFLEET_NAME`); flags win. The chart sets them; every bad value is refused at start with
 * the flag's name and what it accepts.
 */
import { DEFAULT_CLUSTER_DOMAIN, DEFAULT_REGISTRY_PREFIX, DEFAULT_USAGE_AUDIENCE, DEFAULT_VERIFIER_SERVICE_ACCOUNT } from "../mcpserver/index.js";
import { hostname } from "node:os";
import { DEFAULT_REVIEWER_GROUPS, SERVICE_ACCOUNT_REF, SYSTEM_NAMESPACE } from "../crds/index.js";
import { commaList, defineFlags, type Flag } from "../runtime/index.js";
import type { ChildrenConfig, WorkloadAuth, WorkloadUsage } from "./children.js";

export interface OperatorConfig {
  /** Namespaces to watch; empty means every namespace. */
  namespaces: string[];
  /** Review areas that must all approve the current specHash. */
  requiredReviews: string[];
  /** Reviewer group of each area; written to the review gate's parameter ConfigMap when set explicitly. */
  reviewerGroups: Record<string, string>;
  manageReviewerGroups: boolean;
  /** Registry names are `<prefix>.<namespace>/<name>`. */
  registryPrefix: string;
  /** Count approvals of tag-only images (development clusters only). */
  allowTagImages: boolean;
  concurrency: number;
  apiQps: number;
  apiBurst: number;
  /** Separate, lower budget for Events, so they never slow reconciles. */
  eventQps: number;
  resyncPeriodMs: number;
  /** Port of /metrics, /healthz, /readyz; 0 picks a free one. */
  metricsPort: number;
  metricsHost: string;
  leaderElection: { enabled: boolean; namespace: string; name: string; identity: string };
  verifier: {
    /** The operator's own service account (namespace/name): tokens are minted for it and servers' policies name it. */
    serviceAccount: string;
    /** Plain http to addresses outside the cluster's Services (development only). */
    allowPlainHttp: boolean;
    timeoutMs: number;
    /** How often a verified server is checked again. */
    intervalMs: number;
    /** Verifications in flight at once (they run beside the reconciles, not in them). */
    concurrency: number;
  };
  /** Namespaces whose pods the NetworkPolicy admits to servers' ports (besides the verifier's and the allowed service accounts'). */
  ingressNamespaces: string[];
  /** What every workload is told to verify its callers with (the kit's TOOLFLEET_OIDC_* and TOOLFLEET_SA_*). */
  workloadAuth: WorkloadAuth;
  /** Where every workload reports usage (the kit's TOOLFLEET_USAGE_*); unset: no reporting. */
  workloadUsage: WorkloadUsage | undefined;
  clusterDomain: string;
  logLevel: "debug" | "info" | "warn" | "error";
  /** How this replica's requests show in the API server's audit log. */
  userAgent: string;
}

export class OperatorConfigError extends Error {
  override readonly name = "OperatorConfigError";
}

const FLAGS = {
  namespaces: { flag: "namespaces", env: "TOOLFLEET_NAMESPACES", help: "comma-separated namespaces to watch; empty for all" },
  requiredReviews: { flag: "required-reviews", env: "TOOLFLEET_REQUIRED_REVIEWS", help: "comma-separated review areas (default security,legal,genai)" },
  reviewerGroups: { flag: "reviewer-groups", env: "TOOLFLEET_REVIEWER_GROUPS", help: "area=group,... ; when set, the operator keeps the review gate's ConfigMap in line" },
  registryPrefix: { flag: "registry-prefix", env: "TOOLFLEET_REGISTRY_PREFIX", help: `registry name prefix (default ${DEFAULT_REGISTRY_PREFIX})` },
  allowTagImages: { flag: "allow-tag-images", env: "TOOLFLEET_ALLOW_TAG_IMAGES", help: "true to count approvals of tag-only images" },
  concurrency: { flag: "concurrency", env: "TOOLFLEET_CONCURRENCY", help: "reconciles at once (default 8)" },
  apiQps: { flag: "kube-api-qps", env: "TOOLFLEET_KUBE_API_QPS", help: "API requests per second (default 50)" },
  apiBurst: { flag: "kube-api-burst", env: "TOOLFLEET_KUBE_API_BURST", help: "API request burst (default 100)" },
  eventQps: { flag: "event-qps", env: "TOOLFLEET_EVENT_QPS", help: "Events per second (default 10)" },
  resyncPeriod: { flag: "resync-period", env: "TOOLFLEET_RESYNC_PERIOD", help: "full resync period, e.g. 10m, 30s (default 10m)" },
  metricsAddr: { flag: "metrics-addr", env: "TOOLFLEET_METRICS_ADDR", help: "host:port of /metrics, /healthz, /readyz (default 0.0.0.0:8080)" },
  leaderElect: { flag: "leader-elect", env: "TOOLFLEET_LEADER_ELECT", help: "true to elect a leader on a Lease (default true)" },
  leaderNamespace: { flag: "leader-election-namespace", env: "TOOLFLEET_LEADER_ELECTION_NAMESPACE", help: `the Lease's namespace (default ${SYSTEM_NAMESPACE})` },
  leaderName: { flag: "leader-election-id", env: "TOOLFLEET_LEADER_ELECTION_ID", help: "the Lease's name (default toolfleet-operator)" },
  identity: { flag: "identity", env: "POD_NAME", help: "this replica's name in the Lease (default hostname-pid)" },
  verifierServiceAccount: { flag: "verifier-service-account", env: "TOOLFLEET_VERIFIER_SERVICE_ACCOUNT", help: `namespace/name (default ${DEFAULT_VERIFIER_SERVICE_ACCOUNT})` },
  verifyAllowHttp: { flag: "verify-allow-http", env: "TOOLFLEET_VERIFY_ALLOW_HTTP", help: "true to verify remote servers over plain http outside the cluster (development only)" },
  verifyTimeout: { flag: "verify-timeout", env: "TOOLFLEET_VERIFY_TIMEOUT", help: "MCP handshake timeout (default 5s)" },
  verifyInterval: { flag: "verify-interval", env: "TOOLFLEET_VERIFY_INTERVAL", help: "re-verify tools this often (default 5m)" },
  verifyConcurrency: { flag: "verify-concurrency", env: "TOOLFLEET_VERIFY_CONCURRENCY", help: "tool verifications in flight at once (default 64)" },
  ingressNamespaces: { flag: "ingress-namespaces", env: "TOOLFLEET_INGRESS_NAMESPACES", help: `namespaces allowed to reach servers (default ${SYSTEM_NAMESPACE})` },
  oidcIssuer: { flag: "oidc-issuer", env: "TOOLFLEET_OIDC_ISSUER", help: "people's OIDC issuer, passed to every workload" },
  oidcJwksUrl: { flag: "oidc-jwks-url", env: "TOOLFLEET_OIDC_JWKS_URL", help: "the issuer's key set URL (required with --oidc-issuer)" },
  oidcAudience: { flag: "oidc-audience", env: "TOOLFLEET_OIDC_AUDIENCE", help: "audience people's tokens must carry (default: each server's own URL)" },
  groupsClaim: { flag: "groups-claim", env: "TOOLFLEET_GROUPS_CLAIM", help: "the token claim holding groups (default groups)" },
  saIssuer: { flag: "sa-issuer", env: "TOOLFLEET_SA_ISSUER", help: "the cluster's service-account token issuer, passed to every workload" },
  saJwksUrl: { flag: "sa-jwks-url", env: "TOOLFLEET_SA_JWKS_URL", help: "its key set URL (optional in a pod)" },
  usageUrl: { flag: "usage-url", env: "TOOLFLEET_USAGE_URL", help: "the registry's base URL that every workload reports its usage records to; unset: no reporting" },
  usageAudience: { flag: "usage-audience", env: "TOOLFLEET_USAGE_AUDIENCE", help: `audience of the token each workload reports with, one the registry accepts (default ${DEFAULT_USAGE_AUDIENCE})` },
  clusterDomain: { flag: "cluster-domain", env: "TOOLFLEET_CLUSTER_DOMAIN", help: `cluster DNS domain (default ${DEFAULT_CLUSTER_DOMAIN})` },
  logLevel: { flag: "log-level", env: "TOOLFLEET_LOG_LEVEL", help: "debug, info, warn or error (default info)" },
  userAgent: { flag: "user-agent", env: "TOOLFLEET_USER_AGENT", help: "User-Agent of API requests (default toolfleet-operator)" },
} satisfies Record<string, Flag>;

const flags = defineFlags("the operator", FLAGS, (message) => new OperatorConfigError(message));
export const usage = flags.usage;

export function parseDuration(value: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new OperatorConfigError(`--${what}: "${value}" is not a duration; use e.g. 500ms, 30s, 10m, 1h`);
  const n = Number(m[1]);
  const unit = m[2] ?? "s";
  return Math.round(n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!);
}

function parsePositive(value: string, what: string, integer = true): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new OperatorConfigError(`--${what}: "${value}" must be a positive ${integer ? "integer" : "number"}`);
  }
  return n;
}

export function loadConfig(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const get = flags.read(argv, env);

  const reviewerGroupsRaw = get(FLAGS.reviewerGroups);
  const reviewerGroups: Record<string, string> = { ...DEFAULT_REVIEWER_GROUPS };
  if (reviewerGroupsRaw) {
    for (const pair of commaList(reviewerGroupsRaw)) {
      const [area, group] = pair.split("=");
      if (!area || !group) throw new OperatorConfigError(`--reviewer-groups: "${pair}" is not area=group`);
      reviewerGroups[area.trim()] = group.trim();
    }
  }
  const requiredReviews = commaList(get(FLAGS.requiredReviews) ?? "security,legal,genai");
  if (requiredReviews.length === 0) throw new OperatorConfigError("--required-reviews: at least one review area is required");
  for (const area of requiredReviews) {
    if (!/^[a-z][a-z0-9-]{0,30}$/.test(area)) throw new OperatorConfigError(`--required-reviews: "${area}" is not a review area name (lower-case word)`);
  }

  const [host, portText] = (get(FLAGS.metricsAddr) ?? "0.0.0.0:8080").split(/:(?=\d+$)/);
  const metricsPort = Number(portText ?? host);
  if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65535) {
    throw new OperatorConfigError(`--metrics-addr: "${get(FLAGS.metricsAddr)}" is not host:port`);
  }

  const serviceAccount = get(FLAGS.verifierServiceAccount) ?? DEFAULT_VERIFIER_SERVICE_ACCOUNT;
  if (!new RegExp(SERVICE_ACCOUNT_REF).test(serviceAccount)) throw new OperatorConfigError(`--verifier-service-account: "${serviceAccount}" is not namespace/name`);

  const logLevel = get(FLAGS.logLevel) ?? "info";
  if (!["debug", "info", "warn", "error"].includes(logLevel)) throw new OperatorConfigError(`--log-level: "${logLevel}" is not debug, info, warn or error`);

  const apiQps = parsePositive(get(FLAGS.apiQps) ?? "50", FLAGS.apiQps.flag, false);
  const apiBurst = parsePositive(get(FLAGS.apiBurst) ?? "100", FLAGS.apiBurst.flag);
  return {
    namespaces: commaList(get(FLAGS.namespaces)),
    requiredReviews,
    reviewerGroups,
    manageReviewerGroups: reviewerGroupsRaw !== undefined,
    registryPrefix: get(FLAGS.registryPrefix) ?? DEFAULT_REGISTRY_PREFIX,
    allowTagImages: flags.bool(get(FLAGS.allowTagImages) ?? "false", FLAGS.allowTagImages.flag),
    concurrency: parsePositive(get(FLAGS.concurrency) ?? "8", FLAGS.concurrency.flag),
    apiQps,
    apiBurst,
    eventQps: parsePositive(get(FLAGS.eventQps) ?? "10", FLAGS.eventQps.flag, false),
    resyncPeriodMs: parseDuration(get(FLAGS.resyncPeriod) ?? "10m", FLAGS.resyncPeriod.flag),
    metricsPort,
    metricsHost: portText === undefined ? "0.0.0.0" : host!,
    leaderElection: {
      enabled: flags.bool(get(FLAGS.leaderElect) ?? "true", FLAGS.leaderElect.flag),
      namespace: get(FLAGS.leaderNamespace) ?? SYSTEM_NAMESPACE,
      name: get(FLAGS.leaderName) ?? "toolfleet-operator",
      identity: get(FLAGS.identity) ?? `${hostname()}-${process.pid}`,
    },
    verifier: {
      serviceAccount,
      allowPlainHttp: flags.bool(get(FLAGS.verifyAllowHttp) ?? "false", FLAGS.verifyAllowHttp.flag),
      timeoutMs: parseDuration(get(FLAGS.verifyTimeout) ?? "5s", FLAGS.verifyTimeout.flag),
      intervalMs: parseDuration(get(FLAGS.verifyInterval) ?? "5m", FLAGS.verifyInterval.flag),
      concurrency: parsePositive(get(FLAGS.verifyConcurrency) ?? "64", FLAGS.verifyConcurrency.flag),
    },
    ingressNamespaces: commaList(get(FLAGS.ingressNamespaces) ?? SYSTEM_NAMESPACE),
    workloadAuth: workloadAuth(get),
    workloadUsage: workloadUsage(get),
    clusterDomain: get(FLAGS.clusterDomain) ?? DEFAULT_CLUSTER_DOMAIN,
    logLevel: logLevel as OperatorConfig["logLevel"],
    userAgent: get(FLAGS.userAgent) ?? "toolfleet-operator",
  };
}

function httpUrl(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  try {
    const u = new URL(value);
    if (u.protocol === "http:" || u.protocol === "https:") return value;
  } catch {
    /* refused below */
  }
  throw new OperatorConfigError(`--${flag}: "${value}" is not an http(s) URL`);
}

function workloadUsage(get: (flag: Flag) => string | undefined): WorkloadUsage | undefined {
  const url = httpUrl(get(FLAGS.usageUrl), FLAGS.usageUrl.flag);
  const audience = get(FLAGS.usageAudience);
  if (!url) {
    if (audience) throw new OperatorConfigError(`--${FLAGS.usageAudience.flag}: given without --${FLAGS.usageUrl.flag} (the registry's URL to report to)`);
    return undefined;
  }
  return { url: url.replace(/\/+$/, ""), audience: audience ?? DEFAULT_USAGE_AUDIENCE };
}

function workloadAuth(get: (flag: Flag) => string | undefined): WorkloadAuth {
  const oidcIssuer = get(FLAGS.oidcIssuer);
  const oidcJwksUrl = httpUrl(get(FLAGS.oidcJwksUrl), FLAGS.oidcJwksUrl.flag);
  if (oidcIssuer && !oidcJwksUrl) throw new OperatorConfigError("--oidc-jwks-url: required with --oidc-issuer (the workloads verify people's tokens against it)");
  const auth: WorkloadAuth = {};
  if (oidcIssuer) auth.oidcIssuer = oidcIssuer;
  if (oidcJwksUrl) auth.oidcJwksUrl = oidcJwksUrl;
  const audience = get(FLAGS.oidcAudience);
  if (audience) auth.oidcAudience = audience;
  const groupsClaim = get(FLAGS.groupsClaim);
  if (groupsClaim) auth.groupsClaim = groupsClaim;
  const saIssuer = get(FLAGS.saIssuer);
  if (saIssuer) auth.saIssuer = saIssuer;
  const saJwksUrl = httpUrl(get(FLAGS.saJwksUrl), FLAGS.saJwksUrl.flag);
  if (saJwksUrl) auth.saJwksUrl = saJwksUrl;
  return auth;
}

/** What the children's builders take from the operator's configuration. */
export function childrenConfig(config: OperatorConfig): ChildrenConfig {
  return {
    registryPrefix: config.registryPrefix,
    clusterDomain: config.clusterDomain,
    ingressNamespaces: config.ingressNamespaces,
    verifierServiceAccount: config.verifier.serviceAccount,
    auth: config.workloadAuth,
    ...(config.workloadUsage ? { usage: config.workloadUsage } : {}),
  };
}
