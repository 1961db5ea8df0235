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
