/**
 * Refusals the API answers with: a status and a JSON body `{ error, parameter? }` (the official
 * registry's `{ error }`, plus the parameter to fix when one is at fault).
 */
export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly status: number,
    message: string,
    /** The query, path or body parameter at fault. */
    readonly parameter?: string,
  ) {
    super(message);
  }

  body(): { error: string; parameter?: string } {
    return this.parameter ? { error: this.message, parameter: this.parameter } : { error: this.message };
  }
}

/** A bad value in the request: 400 naming it. */
export class BadParameter extends HttpError {
  constructor(parameter: string, problem: string) {
    super(400, `${parameter}: ${problem}`, parameter);
  }
}

export class NotFound extends HttpError {
  constructor(message: string, parameter?: string) {
    super(404, message, parameter);
  }
}

/**
 * The answer to an error raised while serving a request: an HttpError as it says, the body
 * parser's refusals (bad JSON, too large, unsupported charset or encoding) as 4xx naming the
 * body; undefined for anything else, which is the registry's own failure (500).
 */
export function refusalOf(err: unknown): { status: number; body: { error: string; parameter?: string } } | undefined {
  if (err instanceof HttpError) return { status: err.status, body: err.body() };
  const e = err as { type?: string; status?: number; message?: string } | null | undefined;
  if (e?.type === "entity.parse.failed") return { status: 400, body: { error: `body: not valid JSON (${e.message ?? "parse error"})`, parameter: "body" } };
  if (typeof e?.status === "number" && e.status >= 400 && e.status < 500) return { status: e.status, body: { error: `body: ${e.message ?? "refused"}`, parameter: "body" } };
  return undefined;
}
