/**
 * A token bucket for client-side API throttling (QPS with a burst), the way client-go's
 * clients behave, so an operator at scale cannot flood the API server.
 */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  private waiters: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly qps: number,
    readonly burst: number,
  ) {
    if (!(qps > 0)) throw new RangeError(`API QPS must be > 0, got ${qps}`);
    if (!(burst >= 1)) throw new RangeError(`API burst must be >= 1, got ${burst}`);
    this.tokens = burst;
  }

  /** Resolves when a request may go out. */
  take(): Promise<void> {
    this.refill();
    if (this.waiters.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.schedule();
    });
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
  }

  private schedule(): void {
    if (this.timer) return;
    const wait = Math.max(0, ((1 - this.tokens) / this.qps) * 1000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refill();
      while (this.waiters.length > 0 && this.tokens >= 1) {
        this.tokens -= 1;
        this.waiters.shift()!();
      }
      if (this.waiters.length > 0) this.schedule();
    }, wait);
  }
}
