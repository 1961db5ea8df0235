/**
 * Fetching a cluster's service-account keys (`<apiserver>/openid/v1/jwks`). The API server
 * serves them over TLS signed by the cluster CA and, by default, only to authenticated
 * clients, so global fetch (which knows neither) cannot be used: this goes through node:https
 * with the CA and a bearer token or a client certificate. The same credentials post TokenReviews
 * (token-review.ts), so a fetch made here carries them along for the verifier to find.
 */
import { request } from "node:https";
import { readFileSync } from "node:fs";
import type { FetchImplementation } from "jose";
import { createTokenReviewer, TOKEN_REVIEW, type KubernetesRequest } from "./token-review.js";

export interface KubernetesFetchOptions {
  /** PEM of the cluster CA. */
  ca: string | Buffer;
  /** A bearer token, or a function returning the current one (projected tokens rotate). */
  bearerToken?: string | (() => string | Promise<string>);
  /** A client certificate and key (PEM), e.g. the local control plane's admin credentials. */
  clientCert?: { cert: string | Buffer; key: string | Buffer };
}

/** One request to the API server with the cluster CA and credentials; the whole answer. */
export function kubernetesRequest(options: KubernetesFetchOptions): KubernetesRequest {
  return async (url, init) => {
    const token = typeof options.bearerToken === "function" ? await options.bearerToken() : options.bearerToken;
    return new Promise<Response>((resolve, reject) => {
      const headers: Record<string, string> = { accept: "application/json" };
      init.headers?.forEach((value, key) => (headers[key] = value));
      if (token) headers.authorization = `Bearer ${token.trim()}`;
      if (init.body !== undefined) headers["content-type"] = "application/json";
      const req = request(
        url,
        {
          method: init.method ?? "GET",
          headers,
          ca: options.ca,
          ...(options.clientCert ? { cert: options.clientCert.cert, key: options.clientCert.key } : {}),
          ...(init.signal ? { signal: init.signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const responseHeaders = new Headers();
            for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") responseHeaders.set(k, v);
            resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500, headers: responseHeaders }));
          });
        },
      );
      req.on("error", reject);
      req.end(init.body);
    });
  };
}

/**
 * The cluster's keys for jose. It carries a TokenReview client on the same credentials: a
 * service-account verifier with these keys also asks the API server whether each token is
 * still bound to a live account (and pod), see service-account-token.ts.
 */
export function kubernetesJwksFetch(options: KubernetesFetchOptions): FetchImplementation {
  const send = kubernetesRequest(options);
  const fetch: FetchImplementation = (url, init) => send(url, init);
  return Object.assign(fetch, { [TOKEN_REVIEW]: (server: string | URL) => createTokenReviewer({ server, send }) });
}

/** In a pod: the API server's keys with the pod's own CA and (rotating) token. */
export function inClusterJwksFetch(
  caFile = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
  tokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token",
): FetchImplementation {
  return kubernetesJwksFetch({ ca: readFileSync(caFile), bearerToken: () => readFileSync(tokenFile, "utf8") });
}
