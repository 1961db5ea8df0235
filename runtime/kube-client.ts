/**
 * A small REST client for the Kubernetes API: typed errors, client-side QPS/burst, server-side
 * apply, and watches as line streams that the caller controls (no idle abort of its own, unlike
 * @kubernetes/client-node 2.x's Watch). Credentials come from a KubeConfig.
 */
import http from "node:http";
import https from "node:https";
import { apiVersionOf, type KubeObject, type ResourceType } from "./objects.js";
import { backoffDelay, sleep } from "./backoff.js";
import { TokenBucket } from "./rate-limiter.js";
import type { ConnectionConfig } from "./kubeconfig.js";

export interface KubeStatus {
  kind?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: unknown;
}

/** The API server refused a request; `reason` is its machine-readable reason (NotFound, Conflict, Expired…). */
export class KubeApiError extends Error {
  override readonly name = "KubeApiError";
  constructor(
    readonly method: string,
    readonly path: string,
    readonly statusCode: number,
    readonly reason: string,
    readonly serverMessage: string,
    /** The answer's Retry-After, in seconds, when it had one (429, and some 5xx). */
    readonly retryAfterSeconds?: number,
  ) {
    super(`${method} ${path}: ${statusCode} ${reason}: ${serverMessage}`);
  }
  get notFound() {
    return this.statusCode === 404;
  }
  get conflict() {
    return this.statusCode === 409;
  }
  /** 500, 503 or 504: the API server failed or timed out handling it; a write may have been done or not. */
  get unavailable() {
    return this.statusCode === 500 || this.statusCode === 503 || this.statusCode === 504;
  }
  /** 410 Gone: a watch or list asked for a resource version the API server has compacted away. */
  get gone() {
    return this.statusCode === 410 || this.reason === "Expired" || this.reason === "Gone";
  }
}

/** The connection failed before the API server answered (refused, reset, timed out). */
export class KubeConnectionError extends Error {
  override readonly name = "KubeConnectionError";
  constructor(
    readonly method: string,
    readonly path: string,
    override readonly cause: Error,
  ) {
    super(`${method} ${path}: cannot reach the API server: ${cause.message}`);
  }
}

export interface ClientOptions {
  qps?: number;
  burst?: number;
  userAgent?: string;
  /** Per-request timeout for non-watch requests. */
  timeoutMs?: number;
  /**
   * How long a pooled keep-alive socket may sit unused before the client closes it (default
   * 60 s). The API server closes a connection idle for 90 s; a socket kept past that is sometimes
   * reused at the moment the server closes it, and the request on it is reset unanswered.
   */
  idleSocketMs?: number;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size; the list follows `continue` until done. */
  limit?: number;
}

export interface ShapedListOptions<T> extends ListOptions {
  /**
   * Shapes each item as its page arrives, so that only one page of whole objects is ever held
   * (a cache that keeps a slim copy of 5,000 objects need not hold 5,000 whole ones first).
   */
  shape?: (item: T) => T;
}

export interface ObjectList<T> {
  items: T[];
  resourceVersion: string;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
export interface WatchEvent<T> {
  type: WatchEventType;
  object: T;
}

export interface WatchOptions extends ListOptions {
  resourceVersion: string;
  timeoutSeconds: number;
  /** The stream is considered dead after this long without a byte (bookmarks keep it alive). */
  idleTimeoutMs: number;
}

export interface ApplyOptions {
  fieldManager: string;
  force?: boolean;
  subresource?: "status";
}

type Body = object | undefined;

interface Credentials {
  ca?: Buffer | string;
  cert?: Buffer | string;
  key?: Buffer | string;
  headers: Record<string, string>;
  rejectUnauthorized?: boolean;
  fetchedAt: number;
}

/** Credentials from exec plugins or token files may rotate: re-read them this often. */
const CREDENTIALS_TTL_MS = 60_000;

/** Server-side apply's content type: applying the same object twice is the same as once. */
const APPLY_PATCH = "application/apply-patch+yaml";
const MERGE_PATCH = "application/merge-patch+json";
/** A request is sent at most this many times (see request). */
const MAX_ATTEMPTS = 3;
/** The longest a Retry-After is waited for; a longer one is the caller's to deal with. */
const MAX_RETRY_AFTER_MS = 10_000;

/** Without a Retry-After: about 1 s, then 2 s, spread so that requests failed together do not return together. */
const RETRY_BACKOFF = { initialMs: 1000, maxMs: MAX_RETRY_AFTER_MS, jitter: 0.2 };

/** How long to wait before sending a failed request again, or undefined when it must not be. */
function retryDelayMs(err: unknown, sameTwice: boolean, attempt: number): number | undefined {
  if (err instanceof KubeConnectionError) return sameTwice && (err.cause as NodeJS.ErrnoException).code === "ECONNRESET" ? 0 : undefined;
  if (!(err instanceof KubeApiError) || !(err.statusCode === 429 || (sameTwice && err.unavailable))) return undefined;
  if (err.retryAfterSeconds === undefined) return backoffDelay(attempt, RETRY_BACKOFF);
  const after = err.retryAfterSeconds * 1000;
  return after > MAX_RETRY_AFTER_MS ? undefined : after;
}

export class KubeClient {
  private readonly base: URL;
  private readonly limiter: TokenBucket;
  private creds: Credentials | undefined;
  private agent: http.Agent | undefined;
  private readonly timeoutMs: number;
  private readonly idleSocketMs: number;
  private readonly userAgent: string;
  /** Every mutating request, by verb: what "a resync writes nothing" is measured with. */
  readonly writes = { count: 0 };

  constructor(
    private readonly kc: ConnectionConfig,
    options: ClientOptions = {},
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error("the kubeconfig has no current cluster: set current-context or KUBECONFIG");
    this.base = new URL(cluster.server);
    this.limiter = new TokenBucket(options.qps ?? 50, options.burst ?? 100);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.idleSocketMs = options.idleSocketMs ?? 60_000;
    this.userAgent = options.userAgent ?? "toolfleet-operator";
  }

  get server(): string {
    return this.base.toString();
  }

  // ---- paths --------------------------------------------------------------------------------

  path(type: ResourceType, namespace?: string, name?: string, subresource?: string): string {
    const prefix = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
    const ns = type.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
    return `${prefix}${ns}/${type.plural}${name ? `/${encodeURIComponent(name)}` : ""}${subresource ? `/${subresource}` : ""}`;
  }

  // ---- verbs --------------------------------------------------------------------------------

  async get<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string): Promise<T | undefined> {
    try {
      return (await this.request("GET", this.path(type, namespace, name))) as T;
    } catch (err) {
      if (err instanceof KubeApiError && err.notFound) return undefined;
      throw err;
    }
  }

  async list<T extends KubeObject>(type: ResourceType, options: ShapedListOptions<T> = {}): Promise<ObjectList<T>> {
    const shape = options.shape ?? ((item: T) => item);
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = "";
    do {
      const page = (await this.request("GET", this.path(type, options.namespace), undefined, {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        limit: options.limit ?? 500,
        continue: cont,
      })) as { items: T[]; metadata: { resourceVersion: string; continue?: string } };
      // Lists omit apiVersion/kind on items; put them back so cached objects are whole.
      for (const item of page.items) items.push(shape({ apiVersion: apiVersionOf(type), kind: type.kind, ...item }));
      resourceVersion = page.metadata.resourceVersion;
      cont = page.metadata.continue || undefined;
    } while (cont);
    return { items, resourceVersion };
  }

  create<T extends KubeObject>(type: ResourceType, obj: KubeObject, subresourcePath?: string): Promise<T> {
    const ns = obj.metadata.namespace;
    const path = subresourcePath ?? this.path(type, ns);
    return this.request("POST", path, obj) as Promise<T>;
  }

  replace<T extends KubeObject>(type: ResourceType, obj: KubeObject): Promise<T> {
    return this.request("PUT", this.path(type, obj.metadata.namespace, obj.metadata.name), obj) as Promise<T>;
  }

  /** Server-side apply: `obj` holds exactly the fields this manager owns. */
  apply<T extends KubeObject>(type: ResourceType, obj: KubeObject, options: ApplyOptions): Promise<T> {
    const body = { apiVersion: apiVersionOf(type), kind: type.kind, ...obj };
    return this.request("PATCH", this.path(type, obj.metadata.namespace, obj.metadata.name, options.subresource), body, {
      fieldManager: options.fieldManager,
      force: options.force ?? true,
    }, APPLY_PATCH) as Promise<T>;
  }

  /** A JSON patch (RFC 6902), whose `test` operations make guarded edits. */
  jsonPatch<T extends KubeObject>(type: ResourceType, namespace: string | undefined, name: string, ops: object[]): Promise<T> {
    return this.request("PATCH", this.path(type, namespace, name), ops, undefined, "application/json-patch+json") as Promise<T>;
  }

  /** Deletes; a missing object counts as deleted. */
  async delete(type: ResourceType, namespace: string | undefined, name: string, propagationPolicy: "Background" | "Foreground" = "Background"): Promise<boolean> {
    try {
      await this.request("DELETE", this.path(type, namespace, name), { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy });
      return true;
    } catch (err) {
      if (err instanceof KubeApiError && err.notFound) return false;
      throw err;
    }
  }

  // ---- transport ----------------------------------------------------------------------------

  private async credentials(): Promise<Credentials> {
    if (this.creds && Date.now() - this.creds.fetchedAt < CREDENTIALS_TTL_MS) return this.creds;
    const opts: https.RequestOptions = {};
    await this.kc.applyToHTTPSOptions(opts);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries((opts.headers as Record<string, unknown> | undefined) ?? {})) if (typeof v === "string") headers[k] = v;
    const fresh: Credentials = {
      ca: opts.ca as Buffer | undefined,
      cert: opts.cert as Buffer | undefined,
      key: opts.key as Buffer | undefined,
      headers,
      rejectUnauthorized: opts.rejectUnauthorized,
      fetchedAt: Date.now(),
    };
    const certChanged = !this.creds || this.creds.cert !== fresh.cert || this.creds.key !== fresh.key || this.creds.ca !== fresh.ca;
    if (certChanged || !this.agent) {
      this.agent?.destroy();
      // `timeout` is the free sockets' idle limit: the agent destroys a pooled socket unused that
      // long. A request in flight has its own timeout (timeoutMs).
      const pool = { keepAlive: true, maxSockets: 64, timeout: this.idleSocketMs };
      this.agent =
        this.base.protocol === "https:"
          ? new https.Agent({ ...pool, ca: fresh.ca, cert: fresh.cert, key: fresh.key, rejectUnauthorized: fresh.rejectUnauthorized })
          : new http.Agent(pool);
    }
    this.creds = fresh;
    return fresh;
  }

  private url(path: string, query?: Record<string, string | number | boolean | undefined>): URL {
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== "") url.searchParams.set(k, String(v));
    return url;
  }

  /**
   * One request, sent again when that is safe and likely to help (at most MAX_ATTEMPTS in all):
   * - a reset connection ("socket hang up"), for a request that is the same done twice: a read, a
   *   server-side apply or a merge patch. A create, update or delete comes back as a
   *   KubeConnectionError, for the caller to look at the object first: a busy API server has
   *   been seen to act on a create and then reset.
   * - 429 Too Many Requests (priority and fairness turned it away before handling it), any verb,
   *   after its Retry-After;
   * - 500, 503 or 504 (a stalled API server's handler timeout), for the same-twice requests only,
   *   after Retry-After or a second per attempt.
   */
  async request(
    method: string,
    path: string,
    body?: Body,
    query?: Record<string, string | number | boolean | undefined>,
    contentType = "application/json",
  ): Promise<unknown> {
    const sameTwice = method === "GET" || (method === "PATCH" && (contentType === APPLY_PATCH || contentType === MERGE_PATCH));
    for (let attempt = 1; ; attempt++) {
      await this.limiter.take();
      if (method !== "GET") this.writes.count++;
      try {
        return await this.send(method, path, body, query, contentType);
      } catch (err) {
        const waitMs = attempt < MAX_ATTEMPTS ? retryDelayMs(err, sameTwice, attempt) : undefined;
        if (waitMs === undefined) throw err;
        if (waitMs > 0) await sleep(waitMs);
      }
    }
  }

  private async send(method: string, path: string, body: Body | undefined, query: Record<string, string | number | boolean | undefined> | undefined, contentType: string): Promise<unknown> {
    const creds = await this.credentials();
    const url = this.url(path, query);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const mod = url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request(
        url,
        {
          method,
          agent: this.agent,
          timeout: this.timeoutMs,
          headers: {
            ...creds.headers,
            Accept: "application/json",
            "User-Agent": this.userAgent,
            ...(payload !== undefined ? { "Content-Type": contentType, "Content-Length": Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          // Decoded chunk by chunk into one string, in the JavaScript heap: a list page of a few
          // MB joined in one Buffer first would leave the process's allocator holding that much
          // after it is freed.
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (text += c));
          res.on("error", (e) => reject(new KubeConnectionError(method, path, e)));
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            let parsed: unknown;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = undefined;
            }
            if (status >= 200 && status < 300) return resolve(parsed);
            const st = (parsed ?? {}) as KubeStatus;
            const retryAfter = Number(res.headers["retry-after"]);
            reject(new KubeApiError(method, path, status, st.reason ?? res.statusMessage ?? "Unknown", st.message ?? text.slice(0, 500), Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined));
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on("error", (e: NodeJS.ErrnoException) => reject(new KubeConnectionError(method, path, e)));
      req.end(payload);
    });
  }

  /**
   * Opens a watch and calls `onEvent` per event. Resolves when the server ends the stream
   * (timeoutSeconds elapsed); rejects on a connection error, an idle stream, a non-200 answer
   * or an ERROR event (410 Gone becomes a KubeApiError with `gone`).
   */
  async watch<T extends KubeObject>(type: ResourceType, options: WatchOptions, onEvent: (e: WatchEvent<T>) => void, signal?: AbortSignal): Promise<void> {
    const creds = await this.credentials();
    const path = this.path(type, options.namespace);
    const url = this.url(path, {
      watch: true,
      resourceVersion: options.resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: options.timeoutSeconds,
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
    });
    const mod = url.protocol === "https:" ? https : http;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        req.destroy();
        if (err) reject(err);
        else resolve();
      };
      const onAbort = () => finish();
      // Watches get their own connection: a long-lived stream must not hold a pooled socket.
      const req = mod.request(url, {
        method: "GET",
        agent: false,
        ca: creds.ca,
        cert: creds.cert,
        key: creds.key,
        rejectUnauthorized: creds.rejectUnauthorized,
        headers: { ...creds.headers, Accept: "application/json", "User-Agent": this.userAgent },
      } as https.RequestOptions);
      req.setTimeout(options.idleTimeoutMs, () => finish(new KubeConnectionError("WATCH", path, new Error(`watch idle for ${options.idleTimeoutMs} ms`))));
      signal?.addEventListener("abort", onAbort, { once: true });
      req.on("error", (e) => finish(new KubeConnectionError("WATCH", path, e)));
      req.on("response", (res) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          let text = "";
          res.on("data", (c: Buffer) => (text += c.toString()));
          res.on("end", () => {
            let st: KubeStatus = {};
            try {
              st = JSON.parse(text) as KubeStatus;
            } catch {
              /* not JSON */
            }
            finish(new KubeApiError("WATCH", path, status, st.reason ?? "Unknown", st.message ?? text.slice(0, 500)));
          });
          return;
        }
        let buffer = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          buffer += chunk;
          let nl: number;
          while ((nl = buffer.indexOf("\n")) >= 0) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            if (!line.trim()) continue;
            let event: WatchEvent<T>;
            try {
              event = JSON.parse(line) as WatchEvent<T>;
            } catch {
              return finish(new KubeConnectionError("WATCH", path, new Error("malformed watch event")));
            }
            if (event.type === "ERROR") {
              const st = event.object as unknown as KubeStatus;
              return finish(new KubeApiError("WATCH", path, st.code ?? 500, st.reason ?? "Unknown", st.message ?? ""));
            }
            try {
              onEvent(event);
            } catch (err) {
              return finish(err as Error);
            }
          }
        });
        res.on("end", () => finish());
        res.on("error", (e) => finish(new KubeConnectionError("WATCH", path, e)));
        res.on("close", () => finish());
      });
      req.end();
    });
  }

  close(): void {
    this.agent?.destroy();
  }
}
