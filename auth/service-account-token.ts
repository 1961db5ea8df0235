/**
 * Workloads' tokens: Kubernetes service-account tokens (projected, audience-bound), verified
 * against the cluster's OIDC keys like any JWT. The identity is the `kubernetes.io` claim,
 * which must agree with the `system:serviceaccount:<ns>:<name>` subject.
 */
import type { JWTPayload } from "jose";
import { AuthError } from "./errors.js";
import { checkAlgorithms, verifyJwt, type JwtCheck } from "./jwt.js";
import { resolveKeys, type KeySource } from "./key-source.js";
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
  return async (token) => {
    const payload = await verifyJwt(token, check);
    const { namespace, name } = serviceAccountOf(payload);
    return { caller: { kind: "serviceAccount", namespace, name }, expiresAt: payload.exp as number };
  };
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
