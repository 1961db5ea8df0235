/**
 * The TokenReview client's decisions, on answers an API server gives (the real one is in
 * service-account-liveness.test.ts): fail closed when it cannot ask, refuse what the API server
 * does not vouch for, and trust a positive answer only for a short while.
 */
import { describe, expect, it } from "@jest/globals";
import { AuthError } from "../errors.js";
import { createTokenReviewer, type KubernetesRequest } from "../token-review.js";

const USER = "system:serviceaccount:agents:bot";
const answering = (status: number, body: unknown, seen: string[] = []): KubernetesRequest => async (url, init) => {
  seen.push(`${init.method} ${url} ${init.body ?? ""}`);
  return new Response(JSON.stringify(body), { status });
};
const code = async (p: Promise<unknown>) => p.then(() => "accepted", (e: unknown) => (e instanceof AuthError ? `${e.code}: ${e.reason}` : String(e)));

describe("createTokenReviewer", () => {
  it("posts the token and audiences to the API server's tokenreviews, under a proxy path too", async () => {
    const seen: string[] = [];
    const review = createTokenReviewer({ server: "https://k8s.example/proxy/", send: answering(201, { status: { authenticated: true, user: { username: USER } } }, seen) });
    expect(await code(review("tok", ["https://a"], USER))).toBe("accepted");
    expect(seen).toEqual([`POST https://k8s.example/proxy/apis/authentication.k8s.io/v1/tokenreviews {"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"tok","audiences":["https://a"]}}`]);
  });

  it("refuses a token the API server no longer authenticates, with its reason", async () => {
    const review = createTokenReviewer({ server: "https://k8s", send: answering(201, { status: { authenticated: false, error: 'service account "bot" not found' } }) });
    expect(await code(review("tok", ["a"], USER))).toBe('invalid: service-account token no longer valid: service account "bot" not found');
  });

  it("refuses a token the API server attributes to another account", async () => {
    const review = createTokenReviewer({ server: "https://k8s", send: answering(201, { status: { authenticated: true, user: { username: "system:serviceaccount:agents:other" } } }) });
    expect(await code(review("tok", ["a"], USER))).toMatch(/^invalid: .*another account/);
  });

  it("fails closed, naming the RBAC it needs, when the API server refuses to review", async () => {
    for (const status of [401, 403]) {
      const review = createTokenReviewer({ server: "https://k8s", send: answering(status, { kind: "Status" }) });
      expect(await code(review("tok", ["a"], USER))).toMatch(/^unavailable: .*tokenreviews create/);
    }
    const down = createTokenReviewer({ server: "https://k8s", send: async () => Promise.reject(new Error("ECONNREFUSED")) });
    expect(await code(down("tok", ["a"], USER))).toMatch(/^unavailable: .*ECONNREFUSED/);
  });

  it("trusts a positive answer for the cache time only, and never caches a refusal", async () => {
    let clock = 0;
    let live = true;
    const seen: string[] = [];
    const send: KubernetesRequest = async (_url, init) => {
      seen.push(String(init.body));
      return new Response(JSON.stringify({ status: live ? { authenticated: true, user: { username: USER } } : { authenticated: false } }), { status: 201 });
    };
    const review = createTokenReviewer({ server: "https://k8s", send, cacheTtlMs: 30_000, now: () => clock });
    expect(await review("tok", ["a"], USER)).toBe(30_000);
    live = false;
    clock = 29_999;
    expect(await review("tok", ["a"], USER)).toBe(30_000);
    expect(seen).toHaveLength(1);
    clock = 30_000;
    expect(await code(review("tok", ["a"], USER))).toMatch(/^invalid/);
    expect(await code(review("tok", ["a"], USER))).toMatch(/^invalid/);
    expect(seen).toHaveLength(3);
  });
});
