/**
 * Tool verifications run beside the work queue, never inside a reconcile. A handshake with a
 * slow or unreachable server (a DNS miss, a timeout) takes up to seconds; done inline it holds a
 * worker that long, and a fleet of such servers stalls every other reconcile behind them.
 *
 * The reconciler asks for a server's result: a fresh one comes back at once; otherwise a
 * verification starts (at most `concurrency` run at a time, the rest wait their turn) and the
 * server's key is queued again when it settles. Meanwhile the last result for the same
 * fingerprint (URL, spec) is still the answer, so a periodic re-check changes nothing until it
 * has something to say; a server never verified for its current spec gets no answer yet.
 */
import type { VerificationResult } from "./tool-verification.js";

/**
 * A server that could not be verified is tried again sooner than a verified one is re-checked:
 * after 2 s, then twice as long each time, up to 30 s. The first miss is often only the
 * cluster catching up (a pod just Ready that kube-proxy does not route to yet).
 */
export const FIRST_RETRY_MS = 2_000;
export const UNREACHABLE_RETRY_MS = 30_000;

export interface VerificationsOptions {
  /** How long a Verified or Mismatch result holds before it is checked again. */
  intervalMs: number;
  /** Verifications in flight at once. */
  concurrency: number;
  /** Called with a key whose verification has settled: queue it for a reconcile. */
  settled: (key: string) => void;
  /** The clock (tests move it); default Date.now. */
  now?: () => number;
}

interface Result {
  fingerprint: string;
  result: VerificationResult;
  at: number;
  /** Results in a row for this fingerprint that were neither Verified nor Mismatch. */
  misses: number;
}

const conclusive = (result: VerificationResult) => result.outcome === "Verified" || result.outcome === "Mismatch";

/** How long `result` holds before it is checked again, after `misses` inconclusive results in a row (1 for the first). */
export function retryAfterMs(result: VerificationResult, intervalMs: number, misses = 1): number {
  if (conclusive(result)) return intervalMs;
  return Math.min(intervalMs, UNREACHABLE_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(Math.max(misses, 1) - 1, 10));
}

export class Verifications {
  private readonly results = new Map<string, Result>();
  /** Key → the fingerprint being verified (running or waiting for a slot). */
  private readonly pending = new Map<string, string>();
  private readonly waiting: Array<() => void> = [];
  private active = 0;
  private readonly now: () => number;

  constructor(private readonly options: VerificationsOptions) {
    if (!(options.concurrency >= 1)) throw new RangeError(`verification concurrency must be >= 1, got ${options.concurrency}`);
    this.now = options.now ?? Date.now;
  }

  /**
   * The result for `key` at `fingerprint`: fresh, or the last one while a newer check runs;
   * undefined while the first check for this fingerprint runs. Starts `verify` when due.
   */
  get(key: string, fingerprint: string, verify: () => Promise<VerificationResult>): VerificationResult | undefined {
    const last = this.results.get(key);
    const current = last?.fingerprint === fingerprint ? last : undefined;
    if (current && this.now() - current.at < retryAfterMs(current.result, this.options.intervalMs, current.misses)) return current.result;
    if (this.pending.get(key) !== fingerprint) void this.run(key, fingerprint, verify);
    return current?.result;
  }

  /** How long the last result for `key` holds (the reconciler comes back then); undefined when none is known. */
  retryAfterMs(key: string): number | undefined {
    const last = this.results.get(key);
    return last ? retryAfterMs(last.result, this.options.intervalMs, last.misses) : undefined;
  }

  /** Drops what is known of `key` (its server is gone or no longer verifiable); a check in flight is ignored when it settles. */
  forget(key: string): void {
    this.results.delete(key);
    this.pending.delete(key);
  }

  /** Checks running or waiting for a slot. */
  get inFlight(): number {
    return this.pending.size;
  }

  private async run(key: string, fingerprint: string, verify: () => Promise<VerificationResult>): Promise<void> {
    this.pending.set(key, fingerprint);
    if (this.active >= this.options.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    let result: VerificationResult;
    try {
      // Still wanted? It may have been forgotten, or superseded by a newer fingerprint, while it waited.
      if (this.pending.get(key) !== fingerprint) return;
      try {
        result = await verify();
      } catch (err) {
        result = { outcome: "HandshakeFailed", message: `verification failed: ${(err as Error).message}` };
      }
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
    if (this.pending.get(key) !== fingerprint) return;
    this.pending.delete(key);
    const last = this.results.get(key);
    const misses = conclusive(result) ? 0 : (last?.fingerprint === fingerprint ? last.misses : 0) + 1;
    this.results.set(key, { fingerprint, result, at: this.now(), misses });
    this.options.settled(key);
  }
}
