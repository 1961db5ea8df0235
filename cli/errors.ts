/**
 * The CLI's exit codes and its one error type. Scripts branch on the code (signed out, not
 * found, denied, stale), so each failure a person can act on has a code of its own and a
 * message that says what to do.
 */
export const EXIT = {
  ok: 0,
  /** Anything else: a refused local file, an unexpected answer. */
  failure: 1,
  /** Bad command line: unknown command or flag, missing argument, a value the registry refused (400). */
  usage: 2,
  /** Not signed in, or the session expired and could not be refreshed: run `toolfleet login`. */
  notSignedIn: 3,
  /** No such server (or none the caller may see). */
  notFound: 4,
  /** Refused: access denied, not a reviewer of that area. */
  denied: 5,
  /** The object changed since it was shown: look again, then decide. */
  stale: 6,
  /** The registry, the provider or the API server could not be reached. */
  unavailable: 7,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage);
