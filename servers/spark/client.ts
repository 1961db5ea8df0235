// A client for Spark's monitoring REST API (/api/v1), which a live driver's UI and the history
// server both serve in the same shape. Only the fields the domain server uses are typed; the
// rest of each answer is dropped at the boundary.
import { z } from "zod";
import { idProblem, type SparkIdKind } from "./ids.js";
import { BackendError, connectionFailure, transportFailure, withDeadline } from "../kit/index.js";
import type { DiagnosisInput } from "./diagnose.js";

export type SparkErrorKind = "unreachable" | "timeout" | "not_found" | "auth" | "protocol" | "invalid_id";

export class SparkError extends BackendError<SparkErrorKind> {
  override readonly name = "SparkError";
}

const attemptSchema = z.object({
  attemptId: z.string().optional(),
  startTime: z.string(),
  endTime: z.string().optional(),
  duration: z.number().optional(),
  sparkUser: z.string().optional(),
  completed: z.boolean(),
  appSparkVersion: z.string().optional(),
});
const applicationSchema = z.object({ id: z.string(), name: z.string(), attempts: z.array(attemptSchema) });
export type SparkApplication = z.infer<typeof applicationSchema>;

const jobSchema = z.object({
  jobId: z.number(),
  name: z.string(),
  description: z.string().optional(),
  status: z.string(),
  submissionTime: z.string().optional(),
  completionTime: z.string().optional(),
  stageIds: z.array(z.number()),
  numTasks: z.number(),
  numFailedTasks: z.number(),
  numCompletedTasks: z.number(),
  numFailedStages: z.number(),
});
export type SparkJob = z.infer<typeof jobSchema>;

const stageSchema = z.object({
  stageId: z.number(),
  attemptId: z.number(),
  status: z.string(),
  name: z.string(),
  description: z.string().optional(),
  numTasks: z.number(),
  numCompleteTasks: z.number(),
  numFailedTasks: z.number(),
  numKilledTasks: z.number().optional(),
  submissionTime: z.string().optional(),
  completionTime: z.string().optional(),
  executorRunTime: z.number(),
  inputBytes: z.number(),
  inputRecords: z.number(),
  shuffleReadBytes: z.number(),
  shuffleReadRecords: z.number(),
  shuffleWriteBytes: z.number(),
  memoryBytesSpilled: z.number(),
  diskBytesSpilled: z.number(),
  failureReason: z.string().optional(),
});
export type SparkStage = z.infer<typeof stageSchema>;

const quantiles = z.array(z.number());
const taskSummarySchema = z.object({
  quantiles,
  duration: quantiles,
  executorRunTime: quantiles,
  jvmGcTime: quantiles,
  memoryBytesSpilled: quantiles,
  diskBytesSpilled: quantiles,
  inputMetrics: z.object({ bytesRead: quantiles, recordsRead: quantiles }),
  shuffleReadMetrics: z.object({ readBytes: quantiles, readRecords: quantiles }),
});
export type TaskSummary = z.infer<typeof taskSummarySchema>;

const executorSchema = z.object({
  id: z.string(),
  hostPort: z.string(),
  isActive: z.boolean(),
  totalCores: z.number(),
  activeTasks: z.number(),
  failedTasks: z.number(),
  completedTasks: z.number(),
  totalTasks: z.number(),
  totalDuration: z.number(),
  totalGCTime: z.number(),
  totalInputBytes: z.number(),
  totalShuffleRead: z.number(),
  totalShuffleWrite: z.number(),
  memoryUsed: z.number(),
  maxMemory: z.number(),
  diskUsed: z.number(),
  addTime: z.string().optional(),
  removeTime: z.string().optional(),
  removeReason: z.string().optional(),
});
export type SparkExecutor = z.infer<typeof executorSchema>;

export interface SparkClientOptions {
  /** The driver UI (e.g. http://driver:4040) or history server (http://history:18080) base URL. */
  url: string;
  timeoutMs?: number;
  headers?: Record<string, string>;
}

export interface AppRef {
  appId: string;
  /** Only for cluster managers with application attempts (YARN); local and k8s apps have none. */
  attemptId?: string;
}

/** The quantiles asked for by default: min, quartiles, max. */
export const defaultQuantiles = [0, 0.25, 0.5, 0.75, 1] as const;

export class SparkClient {
  private readonly base: string;

  constructor(private readonly options: SparkClientOptions) {
    this.base = `${options.url.replace(/\/+$/, "")}/api/v1`;
  }

  async listApplications(opts: { status?: "completed" | "running"; limit?: number; signal?: AbortSignal } = {}): Promise<SparkApplication[]> {
    const q = new URLSearchParams();
    if (opts.status) q.set("status", opts.status);
    if (opts.limit) q.set("limit", String(opts.limit));
    return this.get(`/applications${q.size ? `?${q}` : ""}`, z.array(applicationSchema), opts.signal);
  }

  async application(ref: AppRef, signal?: AbortSignal): Promise<SparkApplication> {
    return this.get(`/applications/${segment("application id", ref.appId)}`, applicationSchema, signal);
  }

  async jobs(ref: AppRef, opts: { status?: "running" | "succeeded" | "failed" | "unknown"; signal?: AbortSignal } = {}): Promise<SparkJob[]> {
    return this.get(`${appPath(ref)}/jobs${opts.status ? `?status=${opts.status}` : ""}`, z.array(jobSchema), opts.signal);
  }

  /** Stages, newest first; failed ones carry failureReason. */
  async stages(ref: AppRef, opts: { status?: "active" | "complete" | "pending" | "failed" | "skipped"; signal?: AbortSignal } = {}): Promise<SparkStage[]> {
    return this.get(`${appPath(ref)}/stages${opts.status ? `?status=${opts.status}` : ""}`, z.array(stageSchema), opts.signal);
  }

  async stage(ref: AppRef, stageId: number, attemptId = 0, signal?: AbortSignal): Promise<SparkStage> {
    return this.get(`${appPath(ref)}/stages/${stageId}/${attemptId}`, stageSchema, signal);
  }

  /** The distribution of task metrics within one stage attempt, at the given quantiles. */
  async taskSummary(ref: AppRef, stageId: number, attemptId = 0, qs: readonly number[] = defaultQuantiles, signal?: AbortSignal): Promise<TaskSummary> {
    return this.get(`${appPath(ref)}/stages/${stageId}/${attemptId}/taskSummary?quantiles=${qs.join(",")}`, taskSummarySchema, signal);
  }

  /** Executors, with removed (lost) ones and their removeReason when `includeRemoved`. */
  async executors(ref: AppRef, opts: { includeRemoved?: boolean; signal?: AbortSignal } = {}): Promise<SparkExecutor[]> {
    return this.get(`${appPath(ref)}/${opts.includeRemoved === false ? "executors" : "allexecutors"}`, z.array(executorSchema), opts.signal);
  }

  /** The stages that took the longest (by summed executor run time). */
  async slowestStages(ref: AppRef, limit = 5, signal?: AbortSignal): Promise<SparkStage[]> {
    const stages = await this.stages(ref, signal ? { signal } : {});
    return stages.sort((a, b) => b.executorRunTime - a.executorRunTime).slice(0, limit);
  }

  /** Everything diagnose() needs: stages, task summaries of the stages worth a look, executors. */
  async diagnosisInput(ref: AppRef, signal?: AbortSignal): Promise<DiagnosisInput> {
    const opts = signal ? { signal } : {};
    const [application, jobs, stages, executors] = await Promise.all([this.application(ref, signal), this.jobs(ref, opts), this.stages(ref, opts), this.executors(ref, opts)]);
    // Task distributions only where skew can show: finished stages of more than one task.
    const worthALook = stages.filter((s) => s.status === "COMPLETE" && s.numTasks > 1).sort((a, b) => b.executorRunTime - a.executorRunTime).slice(0, 10);
    const summaries = await Promise.all(worthALook.map(async (s) => ({ stageId: s.stageId, attemptId: s.attemptId, summary: await this.taskSummary(ref, s.stageId, s.attemptId, [0, 0.5, 1], signal) })));
    return { application, jobs, stages, executors, taskSummaries: summaries };
  }

  private async get<T>(path: string, schema: z.ZodType<T>, signal?: AbortSignal): Promise<T> {
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    const s = withDeadline(timeoutMs, signal);
    const url = `${this.base}${path}`;
    let res: Response;
    let body: unknown;
    try {
      res = await fetch(url, { headers: { accept: "application/json", ...this.options.headers }, signal: s });
      if (res.status === 404) throw new SparkError("not_found", `not found: ${(await res.text()).trim() || path}`, 404);
      if (res.status === 401 || res.status === 403) throw new SparkError("auth", `the Spark UI refused the request (HTTP ${res.status})`, res.status);
      if (!res.ok) throw new SparkError("protocol", `GET ${path} answered HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`, res.status);
      body = await res.json();
    } catch (e) {
      if (e instanceof SparkError) throw e;
      const failure = transportFailure(e, s);
      if (failure === "timeout") throw new SparkError("timeout", `the Spark API at ${this.options.url} did not answer within ${timeoutMs} ms`, undefined, { cause: e });
      if (failure === "aborted") throw new SparkError("timeout", "the request to the Spark API was aborted", undefined, { cause: e });
      throw new SparkError("unreachable", `cannot reach the Spark API at ${this.options.url}: ${connectionFailure(e)}`, undefined, { cause: e });
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new SparkError("protocol", `unexpected answer from GET ${path}: ${issue ? `${issue.path.join(".")}: ${issue.message}` : "invalid"}`);
    }
    return parsed.data;
  }
}

function appPath(ref: AppRef): string {
  return `/applications/${segment("application id", ref.appId)}${ref.attemptId ? `/${segment("attempt id", ref.attemptId)}` : ""}`;
}

/** An id as one path segment, refused before any request when Spark could not have issued it. */
function segment(kind: SparkIdKind, value: string): string {
  const problem = idProblem(kind, value);
  if (problem) throw new SparkError("invalid_id", problem);
  return encodeURIComponent(value);
}
