/**
 * Where verification keys come from: a JWKS URL (fetched by jose, cached, refetched on an
 * unknown `kid` at most once per cooldown) or keys given directly.
 */
import { createLocalJWKSet, createRemoteJWKSet, customFetch, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import type { FetchImplementation } from "jose";
import { checkKeySetUrl } from "./key-url.js";

export type KeySource =
  | {
      /** An HTTPS (or loopback HTTP) URL serving a JWKS; anything else is refused (see key-url.ts). */
      jwksUrl: string | URL;
      /** How to fetch it, e.g. with a cluster CA and credentials (see kubernetesJwksFetch). */
      fetch?: FetchImplementation;
      headers?: Record<string, string>;
      /** Minimum time between refetches triggered by unknown `kid`s. Default 30 s. */
      cooldownMs?: number;
      /** Refetch keys at least this often. Default 10 min. */
      cacheMaxAgeMs?: number;
      timeoutMs?: number;
    }
  | { jwks: JSONWebKeySet };

export function resolveKeys(source: KeySource): JWTVerifyGetKey {
  if ("jwks" in source) return createLocalJWKSet(source.jwks);
  return createRemoteJWKSet(checkKeySetUrl(source.jwksUrl, "jwksUrl"), {
    cooldownDuration: source.cooldownMs ?? 30_000,
    cacheMaxAge: source.cacheMaxAgeMs ?? 600_000,
    timeoutDuration: source.timeoutMs ?? 5_000,
    ...(source.headers ? { headers: source.headers } : {}),
    ...(source.fetch ? { [customFetch]: source.fetch } : {}),
  });
}
