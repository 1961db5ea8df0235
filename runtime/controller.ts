/**
 * A controller: which events lead to which key (declared in one line with `For(...).Owns(...)`),
 * a work queue, and workers that call `reconcile` with the key and the cached object. The
 * reconciler never sees an event: it is level-triggered, reads the cache and converges.
 */
import type { KubeClient } from "./kube-client.js";
import { Informer, type ObjectCache } from "./informer.js";
import { ControllerMetrics } from "./metrics.js";
import { controllerOf, keyOf, objectKey, splitKey, type KubeObject, type ObjectKey, type ResourceType } from "./objects.js";
import { PerKeyBackoff } from "./backoff.js";
import { WorkQueue } from "./work-queue.js";
import { silentLogger, type Logger } from "../common/log.js";

/** What to do after a reconcile that succeeded. */
export interface Action {
  /** Look again after this long even if nothing changes (e.g. to re-verify). */
  requeueAfterMs?: number;
}

/** An error that retrying cannot fix: the key is dropped until its object changes. */
export class TerminalError extends Error {
  override readonly name = "TerminalError";
}

export interface ReconcileRequest<T extends KubeObject> {
  key: ObjectKey;
  namespace: string | undefined;
  name: string;
  /** The object as cached, or undefined once it is gone. */
  object: T | undefined;
  log: Logger;
}

export type Reconcile<T extends KubeObject> = (request: ReconcileRequest<T>) => Promise<Action | void>;

/** Decides whether an update of the primary object is worth a reconcile. */
export type UpdatePredicate<T> = (obj: T, old: T) => boolean;

/** Skips updates that changed only `status` (e.g. our own status writes). */
export function specOrMetadataChanged<T extends KubeObject>(obj: T, old: T): boolean {
  const a = obj.metadata;
  const b = old.metadata;
  if (a.generation !== undefined && a.generation !== b.generation) return true;
  if (a.deletionTimestamp !== b.deletionTimestamp) return true;
  return (
    JSON.stringify([a.labels, a.annotations, a.finalizers, a.ownerReferences]) !==
    JSON.stringify([b.labels, b.annotations, b.finalizers, b.ownerReferences])
  );
}

export interface ControllerOptions {
  name: string;
  /** Reconciles running at once, over different keys. */
  concurrency?: number;
  namespaces?: readonly string[];
  resyncPeriodMs?: number;
  backoff?: { initialMs: number; maxMs: number };
  metrics?: ControllerMetrics;
  log?: Logger;
}

interface Watch {
  informer: Informer<KubeObject>;
  toKeys: (obj: KubeObject) => ObjectKey[];
}

export class ControllerBuilder<T extends KubeObject> {
  private readonly owned: Array<{ type: ResourceType; labelSelector?: string; transform?: (obj: KubeObject) => KubeObject }> = [];
  private readonly mapped: Array<{ type: ResourceType; labelSelector?: string; toKeys: (obj: KubeObject) => ObjectKey[] }> = [];
  private predicate: UpdatePredicate<T> = () => true;

  constructor(
    private readonly client: KubeClient,
    private readonly primary: ResourceType,
  ) {}

  /**
   * Children whose controller owner reference points at a primary object. `transform` shapes
   * what is cached (drop what the reconciler never reads).
   */
  owns(type: ResourceType, options: { labelSelector?: string; transform?: (obj: KubeObject) => KubeObject } = {}): this {
    this.owned.push({ type, labelSelector: options.labelSelector, transform: options.transform });
    return this;
  }

  /** Any other resource, with a function naming the primary keys an event affects. */
  watches(type: ResourceType, toKeys: (obj: KubeObject) => ObjectKey[], options: { labelSelector?: string } = {}): this {
    this.mapped.push({ type, toKeys, labelSelector: options.labelSelector });
    return this;
  }

  /** Filters updates of the primary object. */
  withUpdatePredicate(predicate: UpdatePredicate<T>): this {
    this.predicate = predicate;
    return this;
  }

  build(reconcile: Reconcile<T>, options: ControllerOptions): Controller<T> {
    return new Controller<T>(this.client, this.primary, this.owned, this.mapped, this.predicate, reconcile, options);
  }
}

/** Starts the one-line declaration: `For(client, McpServer).owns(Deployment).owns(Service)`. */
export function For<T extends KubeObject>(client: KubeClient, primary: ResourceType): ControllerBuilder<T> {
  return new ControllerBuilder<T>(client, primary);
}

export class Controller<T extends KubeObject> {
  private workQueue = new WorkQueue();
  readonly primary: Informer<T>;
  private readonly children = new Map<string, Informer<KubeObject>>();
  private readonly watchesList: Watch[] = [];
  private readonly backoff: PerKeyBackoff;
  private readonly metrics: ControllerMetrics;
  private readonly log: Logger;
  private workers: Promise<void>[] = [];
  private depthTimer: NodeJS.Timeout | undefined;
  private pausing: Promise<void> = Promise.resolve();

  constructor(
    client: KubeClient,
    private readonly primaryType: ResourceType,
    owned: Array<{ type: ResourceType; labelSelector?: string; transform?: (obj: KubeObject) => KubeObject }>,
    mapped: Array<{ type: ResourceType; labelSelector?: string; toKeys: (obj: KubeObject) => ObjectKey[] }>,
    private readonly predicate: UpdatePredicate<T>,
    private readonly reconcile: Reconcile<T>,
    private readonly options: ControllerOptions,
  ) {
    this.metrics = options.metrics ?? new ControllerMetrics(undefined, { defaultMetrics: false });
    this.log = (options.log ?? silentLogger).child({ controller: options.name });
    this.backoff = new PerKeyBackoff({ ...(options.backoff ?? { initialMs: 500, maxMs: 5 * 60_000 }), jitter: 0.2 });
    const informerOptions = (type: ResourceType, labelSelector?: string, transform?: (obj: KubeObject) => KubeObject) => ({
      namespaces: options.namespaces,
      labelSelector,
      transform,
      log: this.log,
      onRestart: (reason: string) => this.metrics.watchRestarts.inc({ resource: type.plural, reason }),
    });
    this.primary = new Informer<T>(client, primaryType, {
      namespaces: options.namespaces,
      log: this.log,
      onRestart: (reason: string) => this.metrics.watchRestarts.inc({ resource: primaryType.plural, reason }),
      resyncPeriodMs: options.resyncPeriodMs ?? 10 * 60_000,
    });
    this.primary.onChange((change, obj, old) => {
      if (change === "updated" && old && !this.predicate(obj, old)) return;
      this.workQueue.add(objectKey(obj));
    });
    for (const { type, labelSelector, transform } of owned) {
      this.watchesList.push({
        informer: this.childInformer(client, type, informerOptions(type, labelSelector, transform)),
        toKeys: (child) => {
          const ref = controllerOf(child, primaryType);
          return ref ? [keyOf(child.metadata.namespace, ref.name)] : [];
        },
      });
    }
    for (const { type, labelSelector, toKeys } of mapped) {
      this.watchesList.push({ informer: this.childInformer(client, type, informerOptions(type, labelSelector)), toKeys });
    }
    for (const w of this.watchesList) {
      w.informer.onChange((change, obj) => {
        // The primary's resync already covers every key; children's replays add nothing.
        if (change === "resync") return;
        for (const key of w.toKeys(obj)) this.workQueue.add(key);
      });
    }
  }

  private childInformer(client: KubeClient, type: ResourceType, options: ConstructorParameters<typeof Informer>[2]): Informer<KubeObject> {
    const informer = new Informer<KubeObject>(client, type, options);
    this.children.set(type.plural + "." + type.group, informer);
    return informer;
  }

  /** The cache of a watched type, for the reconciler to read children from. */
  cache<C extends KubeObject>(type: ResourceType): ObjectCache<C> {
    if (type.plural === this.primaryType.plural && type.group === this.primaryType.group) return this.primary as unknown as ObjectCache<C>;
    const informer = this.children.get(type.plural + "." + type.group);
    if (!informer) throw new Error(`the controller does not watch ${type.plural}.${type.group || "core"}: declare it with owns() or watches()`);
    return informer as unknown as ObjectCache<C>;
  }

  informers(): Informer<KubeObject>[] {
    return [this.primary as unknown as Informer<KubeObject>, ...this.children.values()];
  }

  /** Starts the caches (a standby keeps them warm); `runWorkers` starts reconciling. */
  startInformers(): void {
    for (const i of this.informers()) i.start();
  }

  async waitForSync(timeoutMs?: number): Promise<void> {
    await Promise.all(this.informers().map((i) => i.waitForSync(timeoutMs)));
  }

  hasSynced(): boolean {
    return this.informers().every((i) => i.hasSynced());
  }

  healthy(): boolean {
    return this.informers().every((i) => i.healthy());
  }

  /** The current work queue (a new one each time the workers start). */
  get queue(): WorkQueue {
    return this.workQueue;
  }

  /**
   * Starts reconciling every cached object and whatever changes. After `pauseWorkers` (a lost
   * lease) it starts over with a fresh queue holding every key, as a new leader must.
   */
  async runWorkers(): Promise<void> {
    await this.pausing;
    if (this.workers.length > 0) return;
    if (this.workQueue.isShuttingDown) this.workQueue = new WorkQueue();
    for (const obj of this.primary.list()) this.workQueue.add(objectKey(obj));
    const n = this.options.concurrency ?? 4;
    this.depthTimer = setInterval(() => this.metrics.queueDepth.set({ controller: this.options.name }, this.workQueue.len()), 1000);
    this.depthTimer.unref();
    for (let i = 0; i < n; i++) this.workers.push(this.worker());
    this.log.info("workers started", { concurrency: n });
  }

  /** Stops taking keys and lets running reconciles finish; the caches stay warm. */
  pauseWorkers(): Promise<void> {
    this.workQueue.shutDown();
    if (this.depthTimer) clearInterval(this.depthTimer);
    const workers = this.workers;
    this.pausing = Promise.allSettled(workers).then(() => {
      if (this.workers === workers) this.workers = [];
    });
    return this.pausing;
  }

  /** Stops reconciling and stops the informers. */
  async stop(): Promise<void> {
    await this.pauseWorkers();
    await Promise.all(this.informers().map((i) => i.stop()));
  }

  private async worker(): Promise<void> {
    const queue = this.workQueue;
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      await this.process(key, queue);
      queue.done(key);
    }
  }

  private async process(key: ObjectKey, queue: WorkQueue): Promise<void> {
    const { namespace, name } = splitKey(key);
    const log = this.log.child({ namespace, name });
    const end = this.metrics.reconcileDuration.startTimer({ controller: this.options.name });
    try {
      const action = await this.reconcile({ key, namespace, name, object: this.primary.getByKey(key), log });
      this.backoff.forget(key);
      if (action?.requeueAfterMs !== undefined) {
        queue.addAfter(key, action.requeueAfterMs);
        this.metrics.reconciles.inc({ controller: this.options.name, result: "requeue" });
      } else this.metrics.reconciles.inc({ controller: this.options.name, result: "success" });
    } catch (err) {
      if (err instanceof TerminalError) {
        this.backoff.forget(key);
        this.metrics.reconciles.inc({ controller: this.options.name, result: "terminal_error" });
        log.error("reconcile failed; not retrying until the object changes", { error: err.message });
      } else {
        const wait = this.backoff.next(key);
        this.metrics.reconciles.inc({ controller: this.options.name, result: "error" });
        log.warn("reconcile failed; retrying", { error: (err as Error).message, retryInMs: wait, failures: this.backoff.failuresOf(key) });
        queue.addAfter(key, wait);
      }
    } finally {
      end();
    }
  }
}
