/**
 * The kit's configuration from the environment, as the operator's Deployment sets it. A bad
 * value is refused at start with the variable's name.
 */
import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { z } from "zod";
import { checkKeySetUrl, inClusterJwksFetch, kubernetesJwksFetch, type KeySource } from "../../auth/index.js";
import { stdoutAuditSink } from "./audit.js";
import { DEFAULTS, type KitOptions } from "./options.js";
import { usageFromEnv } from "./usage/env.js";

const list = z
  .string()
  .optional()
  .transform((s) => (s ? s.split(",").map((x) => x.trim()).filter(Boolean) : undefined));
const url = z.url({ protocol: /^https?$/ });
// Whoever answers the key set's fetch decides which tokens pass: https, or http only to loopback.
const keySetUrl = url.refine(
  (u) => {
    try {
      checkKeySetUrl(u, "key set");
      return true;
    } catch {
      return false;
    }
  },
  { message: "a key set must be fetched over https (plain http only from a loopback host)" },
);

const Env = z.object({
  TOOLFLEET_POLICY_FILE: z.string().min(1).default("/etc/toolfleet/policy.json"),
  PORT: z.coerce.number().int().min(0).max(65535).default(DEFAULTS.port),
  HOST: z.string().default(DEFAULTS.host),
  TOOLFLEET_PUBLIC_URL: url.optional(),
  TOOLFLEET_OIDC_ISSUER: z.string().min(1).optional(),
  TOOLFLEET_OIDC_JWKS_URL: keySetUrl.optional(),
  TOOLFLEET_OIDC_AUDIENCE: list,
  TOOLFLEET_OIDC_ALGORITHMS: list,
  TOOLFLEET_GROUPS_CLAIM: z.string().min(1).default("groups"),
  TOOLFLEET_SA_ISSUER: z.string().min(1).optional(),
  TOOLFLEET_SA_JWKS_URL: keySetUrl.optional(),
  TOOLFLEET_SA_AUDIENCE: list,
  TOOLFLEET_SA_CA_FILE: z.string().optional(),
  TOOLFLEET_SA_TOKEN_FILE: z.string().optional(),
  TOOLFLEET_ALLOWED_ORIGINS: list,
  TOOLFLEET_ELICITATION_TIMEOUT_MS: z.coerce.number().int().positive().default(DEFAULTS.elicitationTimeoutMs),
  TOOLFLEET_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(DEFAULTS.bodyLimitBytes),
  TOOLFLEET_MAX_SESSIONS_PER_CALLER: z.coerce.number().int().positive().default(DEFAULTS.maxSessionsPerCaller),
  TOOLFLEET_REPLICA_KEY: z.string().min(32, "at least 32 bytes, the same in every replica").optional(),
  TOOLFLEET_REPLICA_URL: url.optional(),
  TOOLFLEET_REPLICA_IP: z
    .string()
    .refine((ip) => isIP(ip) !== 0, "not an IPv4 or IPv6 address")
    .optional(),
});

/** Where the other replicas reach this one: the URL given, else http://<pod IP>:<PORT>. */
function replicaUrl(e: z.output<typeof Env>): string | undefined {
  if (e.TOOLFLEET_REPLICA_URL) return e.TOOLFLEET_REPLICA_URL;
  if (!e.TOOLFLEET_REPLICA_IP) return undefined;
  const host = isIP(e.TOOLFLEET_REPLICA_IP) === 6 ? `[${e.TOOLFLEET_REPLICA_IP}]` : e.TOOLFLEET_REPLICA_IP;
  return `http://${host}:${e.PORT}`;
}

export class KitConfigError extends Error {
  override readonly name = "KitConfigError";
}

export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): KitOptions {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    throw new KitConfigError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  }
  const e = parsed.data;
  const ownUrl = replicaUrl(e);
  if (!e.TOOLFLEET_OIDC_ISSUER && !e.TOOLFLEET_SA_ISSUER) {
    throw new KitConfigError("set TOOLFLEET_OIDC_ISSUER (people) or TOOLFLEET_SA_ISSUER (service accounts), or both: otherwise nobody can call");
  }
  const auth: KitOptions["auth"] = {};
  if (e.TOOLFLEET_OIDC_ISSUER) {
    if (!e.TOOLFLEET_OIDC_JWKS_URL) throw new KitConfigError("TOOLFLEET_OIDC_JWKS_URL: required with TOOLFLEET_OIDC_ISSUER");
    auth.users = {
      issuer: e.TOOLFLEET_OIDC_ISSUER,
      keys: { jwksUrl: e.TOOLFLEET_OIDC_JWKS_URL },
      groupsClaim: e.TOOLFLEET_GROUPS_CLAIM,
      ...(e.TOOLFLEET_OIDC_AUDIENCE ? { audience: e.TOOLFLEET_OIDC_AUDIENCE } : {}),
      ...(e.TOOLFLEET_OIDC_ALGORITHMS ? { algorithms: e.TOOLFLEET_OIDC_ALGORITHMS } : {}),
    };
  }
  if (e.TOOLFLEET_SA_ISSUER) {
    auth.serviceAccounts = {
      issuer: e.TOOLFLEET_SA_ISSUER,
      keys: serviceAccountKeys(e),
      ...(e.TOOLFLEET_SA_AUDIENCE ? { audience: e.TOOLFLEET_SA_AUDIENCE } : {}),
    };
  }
  return {
    ...DEFAULTS,
    policyFile: e.TOOLFLEET_POLICY_FILE,
    port: e.PORT,
    host: e.HOST,
    publicUrl: (e.TOOLFLEET_PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ""),
    auth,
    allowedOrigins: e.TOOLFLEET_ALLOWED_ORIGINS ?? [],
    elicitationTimeoutMs: e.TOOLFLEET_ELICITATION_TIMEOUT_MS,
    bodyLimitBytes: e.TOOLFLEET_BODY_LIMIT_BYTES,
    maxSessionsPerCaller: e.TOOLFLEET_MAX_SESSIONS_PER_CALLER,
    ...(e.TOOLFLEET_REPLICA_KEY ? { replicaKey: e.TOOLFLEET_REPLICA_KEY } : {}),
    ...(ownUrl ? { replicaUrl: ownUrl } : {}),
    audit: stdoutAuditSink,
    usage: usageFromEnv(env),
  };
}

/** In a pod the API server's keys need its CA and a token; elsewhere, name them. */
function serviceAccountKeys(e: z.output<typeof Env>): KeySource {
  const inPod = process.env.KUBERNETES_SERVICE_HOST !== undefined;
  const jwksUrl = e.TOOLFLEET_SA_JWKS_URL ?? (inPod ? "https://kubernetes.default.svc/openid/v1/jwks" : undefined);
  if (!jwksUrl) throw new KitConfigError("TOOLFLEET_SA_JWKS_URL: required with TOOLFLEET_SA_ISSUER outside a cluster");
  if (e.TOOLFLEET_SA_CA_FILE) {
    const tokenFile = e.TOOLFLEET_SA_TOKEN_FILE;
    return {
      jwksUrl,
      fetch: kubernetesJwksFetch({ ca: readFileSync(e.TOOLFLEET_SA_CA_FILE), ...(tokenFile ? { bearerToken: () => readFileSync(tokenFile, "utf8") } : {}) }),
    };
  }
  return inPod ? { jwksUrl, fetch: inClusterJwksFetch() } : { jwksUrl };
}
