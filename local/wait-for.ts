/**
 * Waiting for something observable (a condition in a status, a metric, a port that answers),
 * for the local control plane, the backends, the real node, `make run`, tests and benchmarks:
 * look, and look again after a pause, until it holds or time runs out. Never a fixed sleep.
 */
/** What `check` returns: the awaited value, or undefined or false for "not yet". */
export type Observation<T> = T | undefined | false;

/**
 * Resolves with the first value of `check` that is neither undefined nor false, looking every
 * `everyMs`. A `check` that throws counts as "not yet". After `timeoutMs` it rejects, naming
 * `what` and, when the last look threw, its error. `giveUpIf`, asked before each look, gives a
 * reason to stop at once (the process waited for has died), or undefined.
 */
export async function waitFor<T>(
  what: string,
  check: () => Observation<T> | Promise<Observation<T>>,
  timeoutMs = 30_000,
  everyMs = 100,
  giveUpIf?: () => string | undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = giveUpIf?.();
    if (reason !== undefined) throw new Error(`${what}: ${reason}`);
    let lastError: unknown;
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const last = lastError === undefined ? "" : ` (last error: ${lastError instanceof Error ? lastError.message : String(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
