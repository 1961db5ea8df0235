/** Exponential backoff with jitter, for watch restarts and failed reconciles. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Fraction of random spread, so many keys failing together do not retry in lockstep. */
  jitter?: number;
}

export function backoffDelay(failures: number, o: BackoffOptions): number {
  const base = Math.min(o.maxMs, o.initialMs * 2 ** Math.max(0, failures - 1));
  const spread = base * (o.jitter ?? 0);
  return Math.round(base - spread / 2 + Math.random() * spread);
}

/** Counts failures per key; `forget` after a success starts the key over. */
export class PerKeyBackoff {
  private failures = new Map<string, number>();
  constructor(private readonly options: BackoffOptions) {}

  /** Records a failure and returns how long to wait before the next try. */
  next(key: string): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    return backoffDelay(n, this.options);
  }
  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }
  forget(key: string): void {
    this.failures.delete(key);
  }
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
