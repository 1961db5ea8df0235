/**
 * The one entry point from an HTTP Authorization header to a Caller: it picks the verifier by
 * the token's (unverified) issuer, verifies fully, and remembers tokens it has verified until
 * they expire (bounded in size and age) so a session's every request does not pay for a
 * signature check again.
 */
import { decodeJwt } from "jose";
import type { Caller } from "../policy/index.js";
import { AuthConfigError, AuthError } from "./errors.js";
import { createServiceAccountTokenVerifier, type ServiceAccountTokenOptions } from "./service-account-token.js";
import { createUserTokenVerifier, type TokenVerifier, type UserTokenOptions, type VerifiedToken } from "./user-token.js";

export interface AuthenticatorOptions {
  /** People's tokens from the identity provider. */
  users?: UserTokenOptions;
  /** Kubernetes service-account tokens. */
  serviceAccounts?: ServiceAccountTokenOptions;
  /** Verified tokens remembered, at most. Default 10 000; 0 turns the cache off. */
  cacheSize?: number;
  /** How long a verified token is trusted without checking again, at most. Default 60 s. */
  cacheTtlMs?: number;
  /** For tests: the clock. */
  now?: () => number;
}

export type AuthResult = { ok: true; caller: Caller; expiresAt: number } | { ok: false; error: AuthError };

export interface Authenticator {
  /** Never throws: a missing, bad or unverifiable credential is `{ ok: false, error }`. */
  authenticate(authorizationHeader: string | undefined): Promise<AuthResult>;
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const users = options.users ? createUserTokenVerifier(options.users) : undefined;
  const services = options.serviceAccounts ? createServiceAccountTokenVerifier(options.serviceAccounts) : undefined;
  if (!users && !services) throw new AuthConfigError("configure users or serviceAccounts (or both): no token could ever be accepted");
  const saIssuer = options.serviceAccounts?.issuer;
  const cache = new VerifiedTokenCache(options.cacheSize ?? 10_000, options.cacheTtlMs ?? 60_000, options.now ?? Date.now);

  function verifierFor(token: string): TokenVerifier {
    let issuer: string | undefined;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      throw new AuthError("invalid", "malformed token");
    }
    if (services && issuer === saIssuer) return services;
    if (users) return users;
    throw new AuthError("invalid", "token from an untrusted issuer");
  }

  return {
    async authenticate(header) {
      if (header === undefined || header.trim() === "") {
        return { ok: false, error: new AuthError("missing", "no bearer token: send Authorization: Bearer <token>") };
      }
      const match = BEARER.exec(header);
      if (!match) return { ok: false, error: new AuthError("invalid", "Authorization must be a single Bearer token") };
      const token = match[1] as string;
      const hit = cache.get(token);
      if (hit) return { ok: true, ...hit };
      try {
        const verified = await verifierFor(token)(token);
        cache.put(token, verified);
        return { ok: true, ...verified };
      } catch (err) {
        if (err instanceof AuthError) return { ok: false, error: err };
        return { ok: false, error: new AuthError("unavailable", `token verification failed: ${(err as Error).message}`) };
      }
    },
  };
}

/** Insertion-ordered Map as a cheap LRU-ish cache: the oldest entry goes first when full. */
class VerifiedTokenCache {
  private readonly entries = new Map<string, { verified: VerifiedToken; until: number }>();
  constructor(
    private readonly size: number,
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  get(token: string): VerifiedToken | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (this.now() >= entry.until) {
      this.entries.delete(token);
      return undefined;
    }
    return entry.verified;
  }

  put(token: string, verified: VerifiedToken): void {
    if (this.size <= 0) return;
    // Trust a cached token no longer than it is valid, without the verifier's clock skew.
    // Nor longer than a live check (TokenReview) vouches for it.
    const until = Math.min(verified.expiresAt * 1000, this.now() + this.ttlMs, verified.trustUntilMs ?? Infinity);
    if (until <= this.now()) return;
    if (this.entries.size >= this.size) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, { verified, until });
  }
}
