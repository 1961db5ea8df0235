/**
 * Children this replica created that its cache may not show yet (client-go's controllers call
 * these "expectations"). A reconcile that runs before the watch delivers a new child would
 * otherwise create it again and get a 409: a request, under the client's rate limit, that a
 * rollout of many servers pays once per child that the watch is slow to show. An entry goes
 * when the cache shows its object, or after `ttlMs` (an object deleted before it was seen).
 */
import type { SlimChild } from "./children.js";

export class RecentCreates {
  private readonly entries = new Map<string, { object: SlimChild; at: number }>();

  constructor(private readonly ttlMs = 30_000) {}

  private static key = (kind: string, namespace: string | undefined, name: string) => `${kind}/${namespace ?? ""}/${name}`;

  add(kind: string, object: SlimChild): void {
    this.entries.set(RecentCreates.key(kind, object.metadata.namespace, object.metadata.name), { object, at: Date.now() });
  }

  /**
   * The cached object if there is one (the entry is no longer needed), else the one created
   * here within ttlMs; `unseen` says the answer came from this memory, not the cache.
   */
  resolve(kind: string, namespace: string, name: string, cached: SlimChild | undefined): { object: SlimChild | undefined; unseen: boolean } {
    const key = RecentCreates.key(kind, namespace, name);
    const entry = this.entries.get(key);
    if (!entry) return { object: cached, unseen: false };
    if (cached || Date.now() - entry.at > this.ttlMs) {
      this.entries.delete(key);
      return { object: cached, unseen: false };
    }
    return { object: entry.object, unseen: true };
  }

  /** Drops every entry of a server's namespace and name prefix (the server is gone). */
  forget(namespace: string, names: readonly string[]): void {
    for (const key of this.entries.keys()) {
      const [, ns, name] = key.split("/");
      if (ns === namespace && names.includes(name!)) this.entries.delete(key);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
