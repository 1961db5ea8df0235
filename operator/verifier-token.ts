/**
 * The operator's service identity for tool verification: a Kubernetes service-account token,
 * read from a projected token file in a pod, or minted with the TokenRequest API (bound to
 * each server's URL as audience) where the operator runs with other credentials, as in the
 * local control plane.
 */
import { readFile } from "node:fs/promises";
import { CoreTypes, KubeApiError, type KubeClient, type KubeObject, type Logger } from "../runtime/index.js";

export interface TokenSource {
  tokenFor(audience: string): Promise<string | undefined>;
}

export class FileTokenSource implements TokenSource {
  constructor(private readonly path: string) {}
  async tokenFor(): Promise<string> {
    // Read each time: the kubelet rotates projected tokens in place.
    return (await readFile(this.path, "utf8")).trim();
  }
}

interface TokenRequestStatus extends KubeObject {
  status?: { token?: string; expirationTimestamp?: string };
}

export class TokenRequestSource implements TokenSource {
  private readonly cache = new Map<string, { token: string; renewAt: number }>();
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
    const path = this.client.path(CoreTypes.ServiceAccount, this.namespace, this.name, "token");
    const body = { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", metadata: { name: this.name }, spec: { audiences: [audience], expirationSeconds: this.expirationSeconds } };
    try {
      const res = (await this.client.request("POST", path, body)) as TokenRequestStatus;
      const token = res.status?.token;
      if (!token) return undefined;
      // Renew at 80% of the lifetime, as the kubelet does.
      this.cache.set(audience, { token, renewAt: Date.now() + this.expirationSeconds * 800 });
      return token;
    } catch (err) {
      const hint = err instanceof KubeApiError && err.notFound ? `: create the ServiceAccount ${this.namespace}/${this.name}` : "";
      this.log.warn(`cannot mint a verifier token${hint}`, { error: (err as Error).message });
      return undefined;
    }
  }
}
