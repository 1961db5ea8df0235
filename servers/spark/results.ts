// How Spark's answers and failures read in a tool result: text tables for people, the same
// numbers as structured content for programs, every failure named by its cause.
import type { CallToolResult } from "@modelcontextprotocol/server";
import { errorResult, textResult, textTable } from "../kit/index.js";
import type { SparkApplication, SparkExecutor, SparkJob, SparkStage, TaskSummary } from "./client.js";
import { SparkError, type SparkErrorKind } from "./client.js";
import { errorLine, type Diagnosis } from "./diagnose.js";

export const ms = (n: number | undefined) => (n === undefined ? "" : n >= 60_000 ? `${(n / 60_000).toFixed(1)} min` : n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`);
export function bytes(b: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (b >= 1024 && i < units.length - 1) {
    b /= 1024;
    i++;
  }
  return `${i ? b.toFixed(1) : b} ${units[i]}`;
}

const state = (a: SparkApplication) => (a.attempts.some((t) => !t.completed) ? "running" : "completed");
const span = (start?: string, end?: string) => (start && end ? Date.parse(end) - Date.parse(start) : undefined);

export function applicationsResult(apps: SparkApplication[]): CallToolResult {
  const rows = apps.map((a) => {
    const last = a.attempts[0];
    return { id: a.id, name: a.name, state: state(a), started: last?.startTime ?? "", durationMs: last?.duration, user: last?.sparkUser ?? "", sparkVersion: last?.appSparkVersion ?? "" };
  });
  const text = rows.length
    ? textTable(["id", "name", "state", "started", "duration", "user"], rows.map((r) => [r.id, r.name, r.state, r.started, ms(r.durationMs), r.user]))
    : "no applications";
  return textResult(text, { applications: rows });
}

export function jobsTable(jobs: SparkJob[]): string {
  return textTable(
    ["job", "status", "description", "tasks", "failed tasks", "failed stages", "duration"],
    jobs.map((j) => [j.jobId, j.status, j.description ?? j.name, `${j.numCompletedTasks}/${j.numTasks}`, j.numFailedTasks, j.numFailedStages, ms(span(j.submissionTime, j.completionTime))]),
  );
}

export function jobsResult(jobs: SparkJob[]): CallToolResult {
  return textResult(jobs.length ? jobsTable(jobs) : "no jobs", { jobs });
}

export function stagesTable(stages: SparkStage[]): string {
  return textTable(
    ["stage", "status", "description", "tasks", "failed", "run time", "shuffle read", "spilled to disk", "failure"],
    stages.map((s) => [
      `${s.stageId}.${s.attemptId}`,
      s.status,
      s.description ?? s.name,
      `${s.numCompleteTasks}/${s.numTasks}`,
      s.numFailedTasks,
      ms(s.executorRunTime),
      bytes(s.shuffleReadBytes),
      bytes(s.diskBytesSpilled),
      s.failureReason ? errorLine(s.failureReason) : "",
    ]),
    { maxCellWidth: 100 },
  );
}

export function stagesResult(stages: SparkStage[]): CallToolResult {
  return textResult(stages.length ? stagesTable(stages) : "no stages", {
    stages: stages.map(({ failureReason, ...s }) => ({ ...s, ...(failureReason ? { error: errorLine(failureReason) } : {}) })),
  });
}

export interface StageSpread {
  stage: SparkStage;
  /** Task durations (ms) at min, median, max. */
  summary: TaskSummary | undefined;
}

export function slowestResult(spreads: StageSpread[]): CallToolResult {
  const rows = spreads.map(({ stage, summary }) => {
    const d = summary?.duration ?? [];
    const [min, median, max] = [d[0], d[Math.floor(d.length / 2)], d.at(-1)];
    return { stageId: stage.stageId, attemptId: stage.attemptId, description: stage.description ?? stage.name, status: stage.status, executorRunTimeMs: stage.executorRunTime, tasks: stage.numTasks, minTaskMs: min, medianTaskMs: median, maxTaskMs: max, diskBytesSpilled: stage.diskBytesSpilled };
  });
  const text = rows.length
    ? textTable(
        ["stage", "description", "status", "run time", "tasks", "task min / median / max", "max÷median", "spilled to disk"],
        rows.map((r) => [
          `${r.stageId}.${r.attemptId}`,
          r.description,
          r.status,
          ms(r.executorRunTimeMs),
          r.tasks,
          r.medianTaskMs === undefined ? "(not finished)" : `${ms(r.minTaskMs)} / ${ms(r.medianTaskMs)} / ${ms(r.maxTaskMs)}`,
          r.medianTaskMs === undefined || r.maxTaskMs === undefined ? "" : `${(r.maxTaskMs / Math.max(r.medianTaskMs, 1)).toFixed(1)}×`,
          bytes(r.diskBytesSpilled),
        ]),
      )
    : "no stages";
  return textResult(text, { stages: rows });
}

export function executorsResult(executors: SparkExecutor[]): CallToolResult {
  const text = executors.length
    ? textTable(
        ["executor", "host", "active", "cores", "tasks (failed)", "task time", "GC time", "GC %", "shuffle read / write", "memory used / max", "removed because"],
        executors.map((e) => [
          e.id,
          e.hostPort,
          e.isActive ? "yes" : "no",
          e.totalCores,
          `${e.totalTasks} (${e.failedTasks})`,
          ms(e.totalDuration),
          ms(e.totalGCTime),
          e.totalDuration ? `${((100 * e.totalGCTime) / e.totalDuration).toFixed(1)}%` : "",
          `${bytes(e.totalShuffleRead)} / ${bytes(e.totalShuffleWrite)}`,
          `${bytes(e.memoryUsed)} / ${bytes(e.maxMemory)}`,
          e.removeReason ?? "",
        ]),
      )
    : "no executors";
  return textResult(text, { executors });
}

export function diagnosisResult(d: Diagnosis): CallToolResult {
  const lines = [`${d.appName} (${d.appId}): ${d.summary}`];
  for (const f of d.findings) {
    lines.push("", `[${f.severity}] ${f.kind}: ${f.message}`, ...Object.entries(f.evidence).map(([k, v]) => `  ${k}: ${v}`));
  }
  return textResult(lines.join("\n"), { ...d });
}

const KIND: Record<SparkErrorKind, string> = {
  unreachable: "the Spark API is unreachable",
  timeout: "the Spark API did not answer in time",
  not_found: "not found",
  auth: "the Spark API refused the request",
  protocol: "the Spark API answered something unexpected",
  invalid_id: "not sent to the Spark API",
};

export function sparkFailure(err: unknown): CallToolResult {
  if (err instanceof SparkError) {
    // The client's not-found messages already say so ("not found: unknown app: …").
    const text = err.kind === "not_found" && /^not found/i.test(err.message) ? err.message : `${KIND[err.kind]}: ${err.message}`;
    return errorResult(text, { error: { kind: err.kind, message: err.message, ...(err.status !== undefined ? { status: err.status } : {}) } });
  }
  throw err;
}
