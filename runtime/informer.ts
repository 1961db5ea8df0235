/**
 * An informer: a cache of one resource type kept current by list + watch, and a stream of
 * changes for whoever listens. It survives everything a watch meets in practice: a server that
 * ends the stream (timeoutSeconds), 410 Gone (relist), dropped connections and a restarted API
 * server (retry with backoff), and silent dead streams (idle timeout; bookmarks keep live ones
 * talking). A periodic resync replays every cached object to the listeners.
 */
import { KubeApiError, type KubeClient } from "./kube-client.js";
import { backoffDelay, sleep } from "./backoff.js";
import { keyOf, objectKey, type KubeObject, type ObjectKey, type ResourceType } from "./objects.js";
import { silentLogger, type Logger } from "../common/log.js";

export type ChangeType = "added" | "updated" | "deleted" | "resync";
export type ChangeListener<T> = (type: ChangeType, obj: T, old?: T) => void;

/** What a reader of the cache gets: lookups by key, listing, and sync state. */
export interface ObjectCache<T extends KubeObject> {
  readonly type: ResourceType;
  get(namespace: string | undefined, name: string): T | undefined;
  getByKey(key: ObjectKey): T | undefined;
  list(namespace?: string): T[];
  size(): number;
  hasSynced(): boolean;
  waitForSync(timeoutMs?: number): Promise<void>;
  /** Listens to changes; returns a function that stops listening. */
  onChange(listener: ChangeListener<T>): () => void;
}

export interface InformerOptions<T extends KubeObject> {
  /** Watch these namespaces, or every namespace when empty/undefined. */
  namespaces?: readonly string[];
  labelSelector?: string;
  /** Replay the whole cache to listeners this often; 0 turns resync off. */
  resyncPeriodMs?: number;
  /**
   * Shapes an object before it is cached, e.g. to drop managedFields; memory at 5,000 objects
   * matters more than fields nobody reads.
   */
  transform?: (obj: T) => T;
  log?: Logger;
  /** Server-side watch length; the client re-watches from the last resource version. */
  watchTimeoutSeconds?: number;
  /** A stream silent this long is dead (bookmarks arrive about once a minute). */
  idleTimeoutMs?: number;
  /** Called on every watch restart, to count them. */
  onRestart?: (reason: string) => void;
}

/** Removes what no controller reads and what costs the most memory. */
export function stripManagedFields<T extends KubeObject>(obj: T): T {
  if (obj.metadata.managedFields) delete obj.metadata.managedFields;
  return obj;
}

export class Informer<T extends KubeObject> implements ObjectCache<T> {
  private readonly store = new Map<ObjectKey, T>();
  private readonly listeners = new Set<ChangeListener<T>>();
  private readonly scopes: Array<string | undefined>;
  private readonly synced = new Set<string | undefined>();
  private syncWaiters: Array<() => void> = [];
  private abort = new AbortController();
  private loops: Promise<void>[] = [];
  private resyncTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  private running = false;
  /** Consecutive failures per scope; `healthy()` turns false when they pile up. */
  private readonly failures = new Map<string | undefined, number>();

  constructor(
    private readonly client: KubeClient,
    readonly type: ResourceType,
    private readonly options: InformerOptions<T> = {},
  ) {
    this.scopes = type.namespaced && options.namespaces && options.namespaces.length > 0 ? [...options.namespaces] : [undefined];
    this.log = (options.log ?? silentLogger).child({ informer: type.plural });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    this.loops = this.scopes.map((ns) => this.run(ns));
    const period = this.options.resyncPeriodMs ?? 0;
    if (period > 0) {
      this.resyncTimer = setInterval(() => this.resync(), period);
      this.resyncTimer.unref();
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort.abort();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await Promise.allSettled(this.loops);
  }

  // ---- the cache ----------------------------------------------------------------------------

  get(namespace: string | undefined, name: string): T | undefined {
    return this.store.get(keyOf(this.type.namespaced ? namespace : undefined, name));
  }
  getByKey(key: ObjectKey): T | undefined {
    return this.store.get(key);
  }
  list(namespace?: string): T[] {
    const all = [...this.store.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }
  size(): number {
    return this.store.size;
  }
  hasSynced(): boolean {
    return this.scopes.every((s) => this.synced.has(s));
  }
  /** False when a watch has failed several times in a row: what /healthz reports. */
  healthy(): boolean {
    return [...this.failures.values()].every((n) => n < 10);
  }
  waitForSync(timeoutMs = 60_000): Promise<void> {
    if (this.hasSynced()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`the ${this.type.plural} cache did not sync within ${timeoutMs} ms: is the API server reachable and the resource installed?`)), timeoutMs);
      this.syncWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
  onChange(listener: ChangeListener<T>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Replays every cached object as a `resync` change. */
  resync(): void {
    for (const obj of this.store.values()) this.emit("resync", obj);
  }

  private emit(type: ChangeType, obj: T, old?: T): void {
    for (const l of this.listeners) {
      try {
        l(type, obj, old);
      } catch (err) {
        this.log.error("change listener failed", { error: err as Error });
      }
    }
  }

  // ---- list + watch -------------------------------------------------------------------------

  private shape(obj: T): T {
    const t = this.options.transform ?? stripManagedFields;
    return t(obj);
  }

  /** One namespace's (or the cluster's) list+watch loop, until stopped. */
  private async run(namespace: string | undefined): Promise<void> {
    const signal = this.abort.signal;
    let resourceVersion: string | undefined;
    while (!signal.aborted) {
      try {
        if (resourceVersion === undefined) resourceVersion = await this.relist(namespace);
        const rv = { current: resourceVersion };
        await this.client.watch<T>(
          this.type,
          {
            namespace,
            labelSelector: this.options.labelSelector,
            resourceVersion: rv.current,
            // Spread the watches' ends so many informers do not re-watch at once.
            timeoutSeconds: this.options.watchTimeoutSeconds ?? 240 + Math.floor(Math.random() * 60),
            idleTimeoutMs: this.options.idleTimeoutMs ?? 90_000,
          },
          (e) => {
            if (e.type === "BOOKMARK") {
              rv.current = e.object.metadata.resourceVersion ?? rv.current;
              return;
            }
            const obj = this.shape({ apiVersion: this.type.group ? `${this.type.group}/${this.type.version}` : this.type.version, kind: this.type.kind, ...e.object });
            rv.current = obj.metadata.resourceVersion ?? rv.current;
            this.applyEvent(e.type, obj);
          },
          signal,
        );
        resourceVersion = rv.current;
        this.failures.set(namespace, 0);
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof KubeApiError && err.gone) {
          // The resource version is too old: start over from a fresh list, which also
          // reconciles deletions that happened while we were not watching.
          this.log.info("watch expired (410 Gone), relisting", { namespace });
          this.options.onRestart?.("gone");
          resourceVersion = undefined;
          continue;
        }
        const n = (this.failures.get(namespace) ?? 0) + 1;
        this.failures.set(namespace, n);
        const wait = backoffDelay(n, { initialMs: 200, maxMs: 30_000, jitter: 0.5 });
        this.log.warn("watch failed, retrying", { namespace, error: (err as Error).message, retryInMs: wait, failures: n });
        this.options.onRestart?.("error");
        await sleep(wait, signal);
        // A list failure leaves resourceVersion undefined and relists; a watch failure resumes
        // from the last version seen, and a 410 then sends us back to relist.
      }
    }
  }

  private async relist(namespace: string | undefined): Promise<string> {
    const { items, resourceVersion } = await this.client.list<T>(this.type, { namespace, labelSelector: this.options.labelSelector });
    const seen = new Set<ObjectKey>();
    for (const raw of items) {
      const obj = this.shape(raw);
      const key = objectKey(obj);
      seen.add(key);
      const old = this.store.get(key);
      this.store.set(key, obj);
      if (!old) this.emit("added", obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit("updated", obj, old);
    }
    for (const [key, old] of this.store) {
      if (namespace !== undefined && old.metadata.namespace !== namespace) continue;
      if (!seen.has(key)) {
        this.store.delete(key);
        this.emit("deleted", old);
      }
    }
    this.markSynced(namespace);
    return resourceVersion;
  }

  private applyEvent(type: "ADDED" | "MODIFIED" | "DELETED" | "ERROR", obj: T): void {
    const key = objectKey(obj);
    const old = this.store.get(key);
    if (type === "DELETED") {
      this.store.delete(key);
      this.emit("deleted", obj);
      return;
    }
    this.store.set(key, obj);
    if (old) this.emit("updated", obj, old);
    else this.emit("added", obj);
  }

  private markSynced(namespace: string | undefined): void {
    this.synced.add(namespace);
    if (this.hasSynced()) {
      const waiters = this.syncWaiters;
      this.syncWaiters = [];
      for (const w of waiters) w();
    }
  }
}
