/**
 * Sends the buffer's segments to the registry's usage API, oldest first, one POST per
 * segment, with the server's own service-account token. A 2xx acknowledges the segment (the
 * registry stores each id once, so a retry after a lost answer counts nothing twice); a
 * network error, 401/403/408/429 or 5xx is retried with capped exponential backoff and full
 * jitter; a 400 can never succeed, so its records are counted as rejected and logged.
 */
import type { DiskBuffer } from "./disk-buffer.js";
import type { Logger } from "../../../common/log.js";

export interface DeliveryOptions {
  /** The registry's base URL, e.g. http://toolfleet-registry.toolfleet-system.svc:8080. */
  registryUrl: string;
  /** The bearer token; read on every attempt (projected tokens rotate). */
  token: () => Promise<string> | string;
  /** How long records may wait to be batched before a partial segment is sent. */
  flushIntervalMs: number;
  backoffMinMs: number;
  backoffMaxMs: number;
  requestTimeoutMs: number;
}

export interface DeliveryEvents {
  delivered(count: number, duplicates: number): void;
  rejected(count: number, reason: string): void;
  failed(reason: string): void;
}

const RETRYABLE = new Set([401, 403, 404, 408, 425, 429]);

export class Delivery {
  private running = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private failures = 0;
  private readonly abort = new AbortController();

  constructor(
    private readonly buffer: DiskBuffer,
    private readonly options: DeliveryOptions,
    private readonly events: DeliveryEvents,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** A segment filled up: send it now rather than at the next tick. */
  nudge(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let delay = this.options.flushIntervalMs;
      try {
        const sent = await this.sendOldest();
        if (sent) {
          this.failures = 0;
          // More may wait: go on at once while full segments are queued.
          if (this.buffer.hasSealed) continue;
        }
      } catch (err) {
        this.failures++;
        const cap = Math.min(this.options.backoffMaxMs, this.options.backoffMinMs * 2 ** Math.min(this.failures - 1, 20));
        delay = Math.max(this.options.backoffMinMs / 2, Math.random() * cap);
        const reason = err instanceof Error ? err.message : String(err);
        this.events.failed(reason);
        if (this.failures === 1 || this.failures % 20 === 0) {
          this.logger.warn("usage delivery failed; records stay in the buffer and are retried", { reason, attempts: this.failures, buffered: this.buffer.size, retryInMs: Math.round(delay) });
        }
      }
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        timer.unref();
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** True when a segment was acknowledged; throws when it must be retried. */
  private async sendOldest(): Promise<boolean> {
    const segment = await this.buffer.oldest();
    if (!segment) return false;
    if (segment.records.length === 0) {
      this.buffer.ack(segment.seq);
      return true;
    }
    const token = await this.options.token();
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs);
    const res = await fetch(`${this.options.registryUrl.replace(/\/+$/, "")}/api/v1/usage`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ records: segment.records }),
      signal: AbortSignal.any([timeout, this.abort.signal]),
    });
    const text = await res.text();
    if (res.ok) {
      const body = parseJson(text) as { accepted?: number; duplicates?: number } | undefined;
      this.buffer.ack(segment.seq);
      this.events.delivered(body?.accepted ?? segment.records.length, body?.duplicates ?? 0);
      return true;
    }
    if (res.status >= 500 || RETRYABLE.has(res.status)) throw new Error(`registry answered ${res.status}: ${text.slice(0, 300)}`);
    // 400, 413, 422…: the same records would be refused forever. Say so and move on.
    const reason = `registry refused ${segment.records.length} record(s) with ${res.status}: ${text.slice(0, 300)}`;
    this.logger.error("usage records rejected by the registry; they are not retried", { reason, count: segment.records.length });
    this.buffer.ack(segment.seq);
    this.events.rejected(segment.records.length, reason);
    return true;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
