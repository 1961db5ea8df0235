/**
 * Workloads' tokens: Kubernetes service-account tokens (projected, audience-bound), verified
 * against the cluster's OIDC keys like any JWT. The identity is the `kubernetes.io` claim,
 * which must agree with the `system:serviceaccount:<ns>:<name>` subject. A signature outlives
 * the account, so when the keys come from the API server (kubernetesJwksFetch) the API server is
 * also asked, by TokenReview, whether the token's account and pod still exist (token-review.ts).
 */
import type { JWTPayload } from "jose";
import { AuthError } from "./errors.js";
import { checkAlgorithms, verifyJwt, type JwtCheck } from "./jwt.js";
import { resolveKeys, type KeySource } from "./key-source.js";
import { TOKEN_REVIEW, type TokenReviewer } from "./token-review.js";
import type { TokenVerifier } from "./user-token.js";

export interface ServiceAccountTokenOptions {
  /** The cluster's service-account issuer (kube-apiserver --service-account-issuer). */
  issuer: string;
  /** The audience the projected token was requested for: this server's URL. */
  audience: string | string[];
  /**
   * The cluster's keys: `${issuer-or-apiserver}/openid/v1/jwks`, fetched with the cluster CA and
   * credentials (kubernetesJwksFetch / inClusterJwksFetch), or given directly.
   */
  keys: KeySource;
  /**
   * Whether each token is checked live with the API server. Default: by TokenReview when the
   * keys are the API server's own (fetched with kubernetesJwksFetch / inClusterJwksFetch);
   * "off" where there is no API server to ask (a test issuer).
   */
  liveness?: TokenReviewer | "off";
  /** Default RS256 and ES256, what kube-apiserver signs with. */
  algorithms?: string[];
  clockToleranceSec?: number;
}

const SUBJECT = /^system:serviceaccount:([a-z0-9]([-a-z0-9]*[a-z0-9])?):([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/;

export function createServiceAccountTokenVerifier(options: ServiceAccountTokenOptions): TokenVerifier {
  const check: JwtCheck = {
    keys: resolveKeys(options.keys),
    issuer: options.issuer,
    audience: options.audience,
    algorithms: checkAlgorithms(options.algorithms ?? ["RS256", "ES256"], "serviceAccounts.algorithms"),
    clockToleranceSec: options.clockToleranceSec ?? 30,
  };
  const review = options.liveness === "off" ? undefined : (options.liveness ?? apiServerReview(options.keys));
  const audiences = typeof options.audience === "string" ? [options.audience] : options.audience;
  return async (token) => {
    const payload = await verifyJwt(token, check);
    const { namespace, name } = serviceAccountOf(payload);
    const trustUntilMs = review ? await review(token, audiences, `system:serviceaccount:${namespace}:${name}`) : undefined;
    return { caller: { kind: "serviceAccount", namespace, name }, expiresAt: payload.exp as number, ...(trustUntilMs !== undefined ? { trustUntilMs } : {}) };
  };
}

/** The TokenReview client a key fetch from the API server carries, at that API server. */
function apiServerReview(keys: KeySource): TokenReviewer | undefined {
  if (!("jwksUrl" in keys) || !keys.fetch) return undefined;
  const make = (keys.fetch as { [TOKEN_REVIEW]?: (server: string | URL) => TokenReviewer })[TOKEN_REVIEW];
  // The API server's base: the key set's URL without /openid/v1/jwks (a proxy may add a path).
  return make?.(new URL(keys.jwksUrl).href.replace(/\/openid\/v1\/jwks$/, ""));
}

function serviceAccountOf(payload: JWTPayload): { namespace: string; name: string } {
  const match = SUBJECT.exec(payload.sub ?? "");
  if (!match) throw new AuthError("invalid", "not a service-account token: sub is not system:serviceaccount:<namespace>:<name>");
  const namespace = match[1] as string;
  const name = match[3] as string;
  const k8s = payload["kubernetes.io"];
  if (k8s !== undefined) {
    const claim = k8s as { namespace?: unknown; serviceaccount?: { name?: unknown } };
    if (claim.namespace !== namespace || claim.serviceaccount?.name !== name) {
      throw new AuthError("invalid", "service-account token's kubernetes.io claim disagrees with its subject");
    }
  }
  return { namespace, name };
}
