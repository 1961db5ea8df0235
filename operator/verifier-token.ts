/**
 * The operator's service identity for tool verification: a token of the verifier service
 * account minted with the TokenRequest API, in a pod as anywhere else, bound to the one server
 * it is sent to (its URL is the audience), so a server cannot replay it against another. Tokens
 * are cached per audience until 80% of their lifetime. A missing account is remembered for 30 s,
 * so that a fleet's verifications do not each ask for it.
 */
import { CoreTypes, KubeApiError, type KubeClient, type KubeObject } from "../runtime/index.js";
import type { Logger } from "../common/log.js";

export interface TokenSource {
  tokenFor(audience: string): Promise<string | undefined>;
}

interface TokenRequestStatus extends KubeObject {
  status?: { token?: string; expirationTimestamp?: string };
}

/** A missing verifier account is looked for again after this long, not at every verification. */
export const MISSING_ACCOUNT_RETRY_MS = 30_000;

export class TokenRequestSource implements TokenSource {
  private readonly cache = new Map<string, { token: string; renewAt: number }>();
  /** Until when the account is known to be missing (a 404): no request is sent before then. */
  private missingUntil = 0;
  private readonly namespace: string;
  private readonly name: string;

  constructor(
    private readonly client: KubeClient,
    serviceAccount: string,
    private readonly log: Logger,
    private readonly expirationSeconds = 3600,
  ) {
    const [ns, name] = serviceAccount.split("/");
    this.namespace = ns!;
    this.name = name!;
  }

  async tokenFor(audience: string): Promise<string | undefined> {
    const hit = this.cache.get(audience);
    if (hit && hit.renewAt > Date.now()) return hit.token;
    if (this.missingUntil > Date.now()) return undefined;
    const path = this.client.path(CoreTypes.ServiceAccount, this.namespace, this.name, "token");
    const body = { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", metadata: { name: this.name }, spec: { audiences: [audience], expirationSeconds: this.expirationSeconds } };
    try {
      const res = (await this.client.request("POST", path, body)) as TokenRequestStatus;
      const token = res.status?.token;
      if (!token) return undefined;
      // Renew at 80% of the lifetime (as the API server granted it), as the kubelet does.
      const expires = res.status?.expirationTimestamp ? Date.parse(res.status.expirationTimestamp) : NaN;
      const lifetimeMs = Number.isFinite(expires) ? Math.max(0, expires - Date.now()) : this.expirationSeconds * 1000;
      this.cache.set(audience, { token, renewAt: Date.now() + lifetimeMs * 0.8 });
      return token;
    } catch (err) {
      const missing = err instanceof KubeApiError && err.notFound;
      // Every server's verification would ask again, each a request against the client's QPS.
      if (missing) this.missingUntil = Date.now() + MISSING_ACCOUNT_RETRY_MS;
      const hint = missing ? `: create the ServiceAccount ${this.namespace}/${this.name}` : "";
      this.log.warn(`cannot mint a verifier token${hint}`, { error: (err as Error).message });
      return undefined;
    }
  }
}
