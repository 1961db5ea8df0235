// What can go wrong talking to a Presto/Trino coordinator, each with what the caller needs to fix it.

export type PrestoErrorKind =
  | "query_failed" // the engine ran the statement and refused or failed it (bad SQL, missing table…)
  | "unreachable" // no connection to the coordinator
  | "timeout" // the statement or a request took longer than allowed; the query was cancelled
  | "auth" // the coordinator refused the user (401/403)
  | "not_found" // an unknown query id
  | "protocol"; // the coordinator answered something this client does not understand

export interface TrinoErrorDetail {
  errorName?: string;
  errorType?: string;
  errorCode?: number;
  line?: number;
  column?: number;
}

export class PrestoError extends Error {
  override readonly name = "PrestoError";
  constructor(
    readonly kind: PrestoErrorKind,
    message: string,
    readonly detail: TrinoErrorDetail & { queryId?: string; status?: number } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
