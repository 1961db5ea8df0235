// A client for Airflow 3's REST API (/api/v2). It signs in at the token endpoint
// (POST /auth/token) with a username and password, and signs in again when the token has
// expired or the server stops accepting it.
import { z } from "zod";
import { BackendError, connectionFailure, transportFailure, withDeadline } from "../kit/index.js";
import { idProblem, type IdKind } from "./ids.js";

export type AirflowErrorKind = "unreachable" | "timeout" | "auth" | "forbidden" | "not_found" | "conflict" | "bad_request" | "invalid_id" | "protocol";

export class AirflowError extends BackendError<AirflowErrorKind> {
  override readonly name = "AirflowError";
}

const dagSchema = z.object({
  dag_id: z.string(),
  dag_display_name: z.string().optional(),
  description: z.string().nullable().optional(),
  is_paused: z.boolean(),
  is_stale: z.boolean().optional(),
  fileloc: z.string().optional(),
  owners: z.array(z.string()).optional(),
  tags: z.array(z.object({ name: z.string() })).optional(),
  timetable_summary: z.string().nullable().optional(),
  next_dagrun_run_after: z.string().nullable().optional(),
});
export type Dag = z.infer<typeof dagSchema>;

const dagRunSchema = z.object({
  dag_run_id: z.string(),
  dag_id: z.string(),
  state: z.string(),
  run_type: z.string(),
  logical_date: z.string().nullable().optional(),
  run_after: z.string().optional(),
  queued_at: z.string().nullable().optional(),
  start_date: z.string().nullable().optional(),
  end_date: z.string().nullable().optional(),
  duration: z.number().nullable().optional(),
  triggered_by: z.string().nullable().optional(),
  triggering_user_name: z.string().nullable().optional(),
  conf: z.record(z.string(), z.unknown()).nullable().optional(),
  note: z.string().nullable().optional(),
});
export type DagRun = z.infer<typeof dagRunSchema>;

const taskInstanceSchema = z.object({
  task_id: z.string(),
  dag_id: z.string(),
  dag_run_id: z.string(),
  map_index: z.number(),
  state: z.string().nullable(),
  try_number: z.number(),
  max_tries: z.number(),
  start_date: z.string().nullable().optional(),
  end_date: z.string().nullable().optional(),
  duration: z.number().nullable().optional(),
  operator: z.string().nullable().optional(),
  hostname: z.string().nullable().optional(),
});
export type TaskInstance = z.infer<typeof taskInstanceSchema>;

// Airflow 3 returns structured log records; an `error_detail` carries the exception.
const logRecordSchema = z.object({
  event: z.string(),
  timestamp: z.string().optional(),
  level: z.string().optional(),
  error_detail: z.array(z.object({ exc_type: z.string(), exc_value: z.string() })).optional(),
});
const logSchema = z.object({ content: z.union([z.array(logRecordSchema), z.string()]), continuation_token: z.string().nullable().optional() });

export interface TaskLog {
  /** Readable lines: "<timestamp> <level> <event>", with exceptions as "<type>: <value>". */
  lines: string[];
  /** The exceptions the task logged, in order. */
  errors: string[];
}

export interface AirflowClientOptions {
  /** The API server's base URL, e.g. http://airflow.example:8080. */
  url: string;
  username: string;
  password: string;
  timeoutMs?: number;
}

export class AirflowClient {
  private readonly base: string;
  private token: { value: string; expiresAt: number } | undefined;

  constructor(private readonly options: AirflowClientOptions) {
    this.base = options.url.replace(/\/+$/, "");
  }

  async listDags(opts: { limit?: number; offset?: number; idPattern?: string; paused?: boolean; tags?: string[]; signal?: AbortSignal } = {}): Promise<{ dags: Dag[]; total: number }> {
    const q = new URLSearchParams({ limit: String(opts.limit ?? 100), offset: String(opts.offset ?? 0), order_by: "dag_id" });
    if (opts.idPattern) q.set("dag_id_pattern", opts.idPattern);
    if (opts.paused !== undefined) q.set("paused", String(opts.paused));
    for (const t of opts.tags ?? []) q.append("tags", t);
    const res = await this.call("GET", `/api/v2/dags?${q}`, z.object({ dags: z.array(dagSchema), total_entries: z.number() }), opts);
    return { dags: res.dags, total: res.total_entries };
  }

  async dag(dagId: string, signal?: AbortSignal): Promise<Dag> {
    return this.call("GET", `/api/v2/dags/${seg("DAG id", dagId)}`, dagSchema, { signal });
  }

  /** Runs of a DAG, newest first. */
  async dagRuns(dagId: string, opts: { limit?: number; state?: string[]; signal?: AbortSignal } = {}): Promise<{ runs: DagRun[]; total: number }> {
    const q = new URLSearchParams({ limit: String(opts.limit ?? 25), order_by: "-run_after" });
    for (const s of opts.state ?? []) q.append("state", s);
    const res = await this.call("GET", `/api/v2/dags/${seg("DAG id", dagId)}/dagRuns?${q}`, z.object({ dag_runs: z.array(dagRunSchema), total_entries: z.number() }), opts);
    return { runs: res.dag_runs, total: res.total_entries };
  }

  async dagRun(dagId: string, runId: string, signal?: AbortSignal): Promise<DagRun> {
    return this.call("GET", `/api/v2/dags/${seg("DAG id", dagId)}/dagRuns/${seg("run id", runId)}`, dagRunSchema, { signal });
  }

  async taskInstances(dagId: string, runId: string, signal?: AbortSignal): Promise<TaskInstance[]> {
    const res = await this.call("GET", `/api/v2/dags/${seg("DAG id", dagId)}/dagRuns/${seg("run id", runId)}/taskInstances?limit=1000`, z.object({ task_instances: z.array(taskInstanceSchema) }), { signal });
    return res.task_instances;
  }

  async taskLog(dagId: string, runId: string, taskId: string, tryNumber: number, opts: { mapIndex?: number; signal?: AbortSignal } = {}): Promise<TaskLog> {
    const q = new URLSearchParams({ full_content: "true" });
    if (opts.mapIndex !== undefined && opts.mapIndex >= 0) q.set("map_index", String(opts.mapIndex));
    const res = await this.call("GET", `/api/v2/dags/${seg("DAG id", dagId)}/dagRuns/${seg("run id", runId)}/taskInstances/${seg("task id", taskId)}/logs/${tryNumber}?${q}`, logSchema, opts);
    if (typeof res.content === "string") {
      const lines = res.content.split("\n");
      return { lines, errors: lines.filter((l) => /^\w*(Error|Exception)\b:/.test(l.trim())) };
    }
    const lines: string[] = [];
    const errors: string[] = [];
    for (const r of res.content) {
      if (r.event.startsWith("::group::") || r.event === "::endgroup::") continue;
      lines.push([r.timestamp, r.level?.toUpperCase(), r.event].filter(Boolean).join(" "));
      for (const d of r.error_detail ?? []) {
        const exc = `${d.exc_type}: ${d.exc_value}`;
        errors.push(exc);
        lines.push(`  ${exc}`);
      }
    }
    return { lines, errors };
  }

  async triggerDagRun(dagId: string, opts: { conf?: Record<string, unknown>; runId?: string; note?: string; signal?: AbortSignal } = {}): Promise<DagRun> {
    const body = { logical_date: null, conf: opts.conf ?? {}, ...(opts.runId ? { dag_run_id: opts.runId } : {}), ...(opts.note ? { note: opts.note } : {}) };
    return this.call("POST", `/api/v2/dags/${seg("DAG id", dagId)}/dagRuns`, dagRunSchema, { ...opts, body });
  }

  /** Clears task instances of one run so the scheduler runs them again; dryRun lists what would be cleared. */
  async clearTaskInstances(dagId: string, opts: { runId: string; taskIds?: string[]; onlyFailed?: boolean; includeDownstream?: boolean; dryRun?: boolean; signal?: AbortSignal }): Promise<TaskInstance[]> {
    const body = {
      dag_run_id: opts.runId,
      dry_run: opts.dryRun ?? false,
      only_failed: opts.onlyFailed ?? true,
      include_downstream: opts.includeDownstream ?? true,
      reset_dag_runs: true,
      ...(opts.taskIds ? { task_ids: opts.taskIds } : {}),
    };
    const res = await this.call("POST", `/api/v2/dags/${seg("DAG id", dagId)}/clearTaskInstances`, z.object({ task_instances: z.array(taskInstanceSchema) }), { ...opts, body });
    return res.task_instances;
  }

  async pauseDag(dagId: string, signal?: AbortSignal): Promise<Dag> {
    return this.setPaused(dagId, true, signal);
  }

  async unpauseDag(dagId: string, signal?: AbortSignal): Promise<Dag> {
    return this.setPaused(dagId, false, signal);
  }

  /**
   * Polls a run until it reaches a final state (success or failed), or throws a timeout. A poll
   * Airflow leaves unanswered (busy running the very tasks waited for) is one more poll, not the end.
   */
  async waitForRun(dagId: string, runId: string, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<DagRun> {
    const until = Date.now() + (opts.timeoutMs ?? 120_000);
    for (;;) {
      const run = await this.dagRun(dagId, runId).catch((e: unknown) => {
        if (e instanceof AirflowError && e.kind === "timeout" && Date.now() < until) return undefined;
        throw e;
      });
      if (run && (run.state === "success" || run.state === "failed")) return run;
      if (Date.now() > until) throw new AirflowError("timeout", `run ${runId} of ${dagId} is still ${run?.state ?? "unanswered"} after ${opts.timeoutMs ?? 120_000} ms`);
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000));
    }
  }

  private async setPaused(dagId: string, paused: boolean, signal?: AbortSignal): Promise<Dag> {
    return this.call("PATCH", `/api/v2/dags/${seg("DAG id", dagId)}?update_mask=is_paused`, dagSchema, { signal, body: { is_paused: paused } });
  }

  private async call<T>(method: string, path: string, schema: z.ZodType<T>, opts: { signal?: AbortSignal | undefined; body?: unknown }): Promise<T> {
    let res = await this.exchange(method, path, await this.bearer(opts.signal), opts);
    // Airflow answers an expired or unknown token with 401 or 403 "Invalid JWT token": sign in again, once.
    if (res.status === 401 || (res.status === 403 && /invalid jwt|expired|signature/i.test(detail(res.body)))) {
      this.token = undefined;
      res = await this.exchange(method, path, await this.bearer(opts.signal), opts);
    }
    if (!res.ok) throw errorFor(res.status, res.body, `${method} ${path.split("?")[0]}`);
    const parsed = schema.safeParse(res.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new AirflowError("protocol", `unexpected answer from ${method} ${path.split("?")[0]}: ${issue ? `${issue.path.join(".")}: ${issue.message}` : "invalid"}`);
    }
    return parsed.data;
  }

  private async bearer(signal: AbortSignal | undefined): Promise<string> {
    // Refresh a minute early, so a token does not expire between here and the server.
    if (this.token && Date.now() < this.token.expiresAt - 60_000) return this.token.value;
    const res = await this.exchange("POST", "/auth/token", undefined, { signal, body: { username: this.options.username, password: this.options.password } });
    if (res.status === 401 || res.status === 403) throw new AirflowError("auth", `Airflow refused the credentials of ${this.options.username} at /auth/token: ${detail(res.body)}`, res.status);
    if (!res.ok) throw errorFor(res.status, res.body, "POST /auth/token");
    const parsed = z.object({ access_token: z.string() }).safeParse(res.body);
    if (!parsed.success) throw new AirflowError("protocol", "the token endpoint answered without an access_token");
    const value = parsed.data.access_token;
    this.token = { value, expiresAt: jwtExpiry(value) ?? Date.now() + 5 * 60_000 };
    return value;
  }

  // One request and its whole answer, within the timeout; transport failures become AirflowErrors.
  private async exchange(method: string, path: string, token: string | undefined, opts: { signal?: AbortSignal | undefined; body?: unknown }): Promise<{ status: number; ok: boolean; body: unknown }> {
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    const signal = withDeadline(timeoutMs, opts.signal);
    const headers: Record<string, string> = { accept: "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    try {
      const res = await fetch(`${this.base}${path}`, { method, headers, signal, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
      const text = await res.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON: keep the text for the error message */
      }
      return { status: res.status, ok: res.ok, body };
    } catch (e) {
      const failure = transportFailure(e, signal);
      if (failure === "timeout") throw new AirflowError("timeout", `Airflow at ${this.base} did not answer ${method} ${path.split("?")[0]} within ${timeoutMs} ms`, undefined, { cause: e });
      if (failure === "aborted") throw new AirflowError("timeout", `the request ${method} ${path.split("?")[0]} was aborted`, undefined, { cause: e });
      throw new AirflowError("unreachable", `cannot reach Airflow at ${this.base}: ${connectionFailure(e)}`, undefined, { cause: e });
    }
  }
}

/** An id as one path segment, refused before any request when Airflow would not take it as an id. */
function seg(kind: IdKind, value: string): string {
  const problem = idProblem(kind, value);
  if (problem) throw new AirflowError("invalid_id", problem);
  return encodeURIComponent(value);
}

function detail(body: unknown): string {
  if (typeof body === "string") return body.slice(0, 300);
  const d = (body as { detail?: unknown } | undefined)?.detail;
  if (typeof d === "string") return d;
  if (Array.isArray(d)) return d.map((x: { msg?: string; loc?: unknown[] }) => `${(x.loc ?? []).join(".")}: ${x.msg ?? ""}`).join("; ");
  return d === undefined ? "" : JSON.stringify(d).slice(0, 300);
}

function errorFor(status: number, body: unknown, what: string): AirflowError {
  const why = detail(body) || `HTTP ${status}`;
  if (status === 404) return new AirflowError("not_found", why, status);
  if (status === 401) return new AirflowError("auth", `${what}: ${why}`, status);
  if (status === 403) return new AirflowError("forbidden", `${what} is not allowed for this user: ${why}`, status);
  if (status === 409) return new AirflowError("conflict", `${what}: ${why}`, status);
  if (status === 400 || status === 422) return new AirflowError("bad_request", `${what}: ${why}`, status);
  return new AirflowError("protocol", `${what} answered HTTP ${status}: ${why}`, status);
}

function jwtExpiry(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as { exp?: unknown };
    return typeof payload.exp === "number" ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
