/**
 * Why a request could not be authenticated. `missing` and `invalid` are the caller's to fix
 * (answer 401); `unavailable` is ours (the key source could not be reached: answer 503, so a
 * JWKS outage is not mistaken for a forged token).
 */
export type AuthErrorCode = "missing" | "invalid" | "unavailable";

export class AuthError extends Error {
  override readonly name = "AuthError";
  constructor(
    readonly code: AuthErrorCode,
    /** For the caller: what is wrong with the credential, e.g. "token expired". */
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** A configuration that would accept forged tokens or can never accept any. */
export class AuthConfigError extends Error {
  override readonly name = "AuthConfigError";
}
