/**
 * What the backend clients (Presto, Spark, Airflow) share about talking HTTP: an error that
 * carries a kind and the HTTP status, a deadline on each request, and telling apart why a
 * request got no answer. Which status means what, and what the messages say, stay with each
 * client: their backends differ there.
 */

/** A backend client's error: `kind` says what went wrong, `status` is the HTTP status when there was an answer. */
export class BackendError<Kind extends string> extends Error {
  readonly kind: Kind;
  readonly status: number | undefined;
  constructor(kind: Kind, message: string, status?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.status = status;
  }
}

/** The caller's signal, if any, also aborted after `timeoutMs`. */
export function withDeadline(timeoutMs: number, signal?: AbortSignal): AbortSignal {
  const deadline = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([deadline, signal]) : deadline;
}

/** Why a request got no answer: its deadline passed, its caller aborted it, or the backend could not be reached. */
export type TransportFailure = "timeout" | "aborted" | "unreachable";

// Errors from fetch may come from another realm (jest's vm, undici's DOMException), so they are
// told apart by name and by the signal, not by instanceof.
export function transportFailure(e: unknown, signal?: AbortSignal): TransportFailure {
  const name = errorName(signal?.aborted ? signal.reason : e) || errorName(e);
  if (name === "TimeoutError") return "timeout";
  if (name === "AbortError") return "aborted";
  return "unreachable";
}

/** What the network said when fetch failed, e.g. "ECONNREFUSED". */
export function connectionFailure(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? String(e);
}

function errorName(e: unknown): string {
  return typeof e === "object" && e !== null && typeof (e as { name?: unknown }).name === "string" ? (e as { name: string }).name : "";
}
