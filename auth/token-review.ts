/**
 * Is a service-account token still bound to live objects? A signed token stays valid until it
 * expires, even after its account or pod is deleted; the API server knows better. A TokenReview
 * asks it (the token, for our audiences): it answers authenticated only while the account, and
 * the pod or secret the token is bound to, exist with the UIDs in the token. Positive answers
 * are remembered briefly, so a deleted account stops working within that time; negative ones are
 * not remembered. Needs RBAC: `tokenreviews` create (the system:auth-delegator ClusterRole).
 */
import { createHash } from "node:crypto";
import { AuthError } from "./errors.js";

/** One request to the API server (kubernetesRequest in kubernetes-fetch.ts). */
export type KubernetesRequest = (url: string, init: { method?: string; headers?: Headers; body?: string; signal?: AbortSignal }) => Promise<Response>;

/** Where a key fetch keeps its TokenReview client (see kubernetesJwksFetch). */
export const TOKEN_REVIEW = Symbol.for("toolfleet.auth.tokenReview");

export interface TokenReviewerOptions {
  /** The API server, e.g. https://kubernetes.default.svc. */
  server: string | URL;
  send: KubernetesRequest;
  /** How long a positive answer is trusted. Default 30 s: a deleted account is refused within it. */
  cacheTtlMs?: number;
  timeoutMs?: number;
  now?: () => number;
}

/** Resolves with the time until which the token may be trusted; throws an AuthError otherwise. */
export type TokenReviewer = (token: string, audiences: readonly string[], expectedUser: string) => Promise<number>;

const CACHE_SIZE = 10_000;

export function createTokenReviewer(options: TokenReviewerOptions): TokenReviewer {
  const url = `${String(options.server).replace(/\/+$/, "")}/apis/authentication.k8s.io/v1/tokenreviews`;
  const ttl = options.cacheTtlMs ?? 30_000;
  const now = options.now ?? Date.now;
  const live = new Map<string, number>();

  return async (token, audiences, expectedUser) => {
    const key = createHash("sha256").update(token).digest("base64url");
    const until = live.get(key);
    if (until !== undefined && now() < until) return until;
    live.delete(key);
    let res: Response;
    try {
      res = await options.send(url, {
        method: "POST",
        body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token, audiences } }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      });
    } catch (err) {
      throw new AuthError("unavailable", `cannot ask the API server whether the service-account token is live: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (res.status === 401 || res.status === 403) {
      throw new AuthError("unavailable", `the API server refused our TokenReview (HTTP ${res.status}): grant this workload tokenreviews create (ClusterRole system:auth-delegator)`);
    }
    if (res.status !== 201 && res.status !== 200) throw new AuthError("unavailable", `TokenReview answered HTTP ${res.status}: ${text.slice(0, 200)}`);
    const review = JSON.parse(text) as { status?: { authenticated?: boolean; error?: string; user?: { username?: string } } };
    const status = review.status ?? {};
    if (status.authenticated !== true) {
      throw new AuthError("invalid", `service-account token no longer valid${status.error ? `: ${status.error}` : " (its account or pod is gone)"}`);
    }
    if (status.user?.username !== expectedUser) throw new AuthError("invalid", "service-account token belongs to another account than it claims");
    const trustedUntil = now() + ttl;
    if (live.size >= CACHE_SIZE) {
      const oldest = live.keys().next();
      if (!oldest.done) live.delete(oldest.value);
    }
    live.set(key, trustedUntil);
    return trustedUntil;
  };
}
