/**
 * Signed-token verification common to people's and workloads' tokens: signature by a trusted
 * asymmetric key, issuer, audience, expiry and not-before with a small skew, and an algorithm
 * allow-list that can never contain `none` or an HMAC algorithm (a public key used as an HMAC
 * secret is the classic forgery). Every failure becomes an AuthError with a reason a person
 * can act on.
 */
import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { AuthConfigError, AuthError } from "./errors.js";

export const ASYMMETRIC_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"] as const;
export type SigningAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

export interface JwtCheck {
  keys: JWTVerifyGetKey;
  issuer: string;
  audience: string | string[];
  algorithms: readonly SigningAlgorithm[];
  clockToleranceSec: number;
}

/** Refuses configurations that would weaken verification, naming the option to fix. */
export function checkAlgorithms(algorithms: readonly string[] | undefined, option: string): SigningAlgorithm[] {
  const list = algorithms ?? [...ASYMMETRIC_ALGORITHMS];
  if (list.length === 0) throw new AuthConfigError(`${option}: at least one signing algorithm is needed`);
  for (const alg of list) {
    if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new AuthConfigError(`${option}: algorithm ${alg} is not allowed; use asymmetric ones (${ASYMMETRIC_ALGORITHMS.join(", ")})`);
    }
  }
  return list as SigningAlgorithm[];
}

export async function verifyJwt(token: string, check: JwtCheck): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, check.keys, {
      issuer: check.issuer,
      audience: check.audience,
      algorithms: [...check.algorithms],
      clockTolerance: check.clockToleranceSec,
      requiredClaims: ["exp", "sub"],
    });
    return payload;
  } catch (err) {
    throw toAuthError(err);
  }
}

function toAuthError(err: unknown): AuthError {
  if (err instanceof errors.JWTExpired) return new AuthError("invalid", "token expired");
  if (err instanceof errors.JWTClaimValidationFailed) {
    switch (err.claim) {
      case "nbf":
        return new AuthError("invalid", "token not yet valid (nbf is in the future)");
      case "iat":
        return new AuthError("invalid", "token issued in the future (iat)");
      case "iss":
        return new AuthError("invalid", "token from an untrusted issuer");
      case "aud":
        return new AuthError("invalid", "token not issued for this audience");
      default:
        return new AuthError("invalid", `token claim ${err.claim} is invalid: ${err.reason}`);
    }
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return new AuthError("invalid", "token signing algorithm not allowed");
  if (err instanceof errors.JWSSignatureVerificationFailed) return new AuthError("invalid", "token signature verification failed");
  if (err instanceof errors.JWKSNoMatchingKey) return new AuthError("invalid", "no trusted key matches the token (unknown kid or algorithm)");
  if (err instanceof errors.JWKSMultipleMatchingKeys) return new AuthError("invalid", "several trusted keys match the token; it must name its kid");
  if (err instanceof errors.JWKSTimeout) return new AuthError("unavailable", "timed out fetching the issuer's signing keys");
  if (err instanceof errors.JWKSInvalid) return new AuthError("unavailable", "the issuer's key set is not a valid JWKS");
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported) {
    return new AuthError("invalid", "malformed token");
  }
  // What is left is the key fetch itself failing (network, TLS, non-200): not the caller's fault.
  const detail = err instanceof Error ? err.message : String(err);
  return new AuthError("unavailable", `cannot fetch the issuer's signing keys: ${detail}`);
}
