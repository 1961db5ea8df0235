// Names the likely cause of a slow or failed Spark application from what its monitoring API
// reports, each finding with the numbers that show it. Pure: the caller fetches the input.
import type { SparkApplication, SparkExecutor, SparkJob, SparkStage, TaskSummary } from "./client.js";

export interface DiagnosisInput {
  application: SparkApplication;
  jobs: SparkJob[];
  stages: SparkStage[];
  executors: SparkExecutor[];
  /** Task distributions at quantiles [0, 0.5, 1] (min, median, max) for the stages to check for skew. */
  taskSummaries: { stageId: number; attemptId: number; summary: TaskSummary }[];
}

export type FindingKind = "failed_stage" | "skew" | "spill" | "lost_executors";

export interface Finding {
  kind: FindingKind;
  /** Failures first, then what slows the application down. */
  severity: "error" | "warning";
  stageId?: number;
  attemptId?: number;
  /** One line an engineer on call can act on. */
  message: string;
  /** The numbers behind the message. */
  evidence: Record<string, number | string>;
}

export interface Diagnosis {
  appId: string;
  appName: string;
  /** The single most likely cause, or that nothing stands out. */
  summary: string;
  findings: Finding[];
}

export interface DiagnoseThresholds {
  /** A stage is skewed when its slowest task takes this many times the median… */
  skewRatio: number;
  /** …and at least this much longer in absolute terms (ms), so tiny stages don't count. */
  skewMinExtraMs: number;
  /** Or when one task reads this many times the median shuffle/input records. */
  skewRecordsRatio: number;
  skewMinRecords: number;
}

export const defaultThresholds: DiagnoseThresholds = { skewRatio: 3, skewMinExtraMs: 1000, skewRecordsRatio: 5, skewMinRecords: 10_000 };

export function diagnose(input: DiagnosisInput, thresholds: DiagnoseThresholds = defaultThresholds): Diagnosis {
  const findings = [...failedStages(input.stages), ...skewedStages(input, thresholds), ...spillingStages(input.stages), ...lostExecutors(input.executors)];
  const order: Record<FindingKind, number> = { failed_stage: 0, lost_executors: 1, skew: 2, spill: 3 };
  findings.sort((a, b) => order[a.kind] - order[b.kind]);
  const first = findings[0];
  const failedJobs = input.jobs.filter((j) => j.status === "FAILED").length;
  const summary = first
    ? `${first.message}${findings.length > 1 ? ` (and ${findings.length - 1} more finding${findings.length > 2 ? "s" : ""})` : ""}`
    : failedJobs
      ? `${failedJobs} job(s) failed, but no stage failure, skew, spill or lost executor explains it`
      : "no failed stages, skew, spills or lost executors: nothing stands out";
  return { appId: input.application.id, appName: input.application.name, summary, findings };
}

/** The line of a failure reason that says what went wrong: the exception, not the stack. */
export function errorLine(reason: string): string {
  const lines = reason.split("\n").map((l) => l.trim()).filter(Boolean);
  // Python tracebacks end with "SomeError: message"; JVM reasons lead with "...Exception: message".
  const exception = [...lines].reverse().find((l) => /^[\w.]*(Error|Exception|Exit|Interrupt)\b(:|$)/.test(l) && !l.startsWith("at "));
  return exception ?? lines[0] ?? reason;
}

function failedStages(stages: SparkStage[]): Finding[] {
  return stages
    .filter((s) => s.status === "FAILED")
    .map((s) => {
      const error = s.failureReason ? errorLine(s.failureReason) : "no failure reason recorded";
      return {
        kind: "failed_stage" as const,
        severity: "error" as const,
        stageId: s.stageId,
        attemptId: s.attemptId,
        message: `stage ${s.stageId} (${s.description ?? s.name}) failed: ${error}`,
        evidence: { failedTasks: s.numFailedTasks, completedTasks: s.numCompleteTasks, tasks: s.numTasks, error, ...(s.failureReason ? { failureReason: s.failureReason.split("\n")[0]! } : {}) },
      };
    });
}

function skewedStages(input: DiagnosisInput, t: DiagnoseThresholds): Finding[] {
  const byKey = new Map(input.stages.map((s) => [`${s.stageId}/${s.attemptId}`, s]));
  const out: Finding[] = [];
  for (const { stageId, attemptId, summary } of input.taskSummaries) {
    const stage = byKey.get(`${stageId}/${attemptId}`);
    const [minMs, medianMs, maxMs] = [at(summary.duration, 0), at(summary.duration, 0.5), at(summary.duration, 1)];
    const records = summary.shuffleReadMetrics.readRecords.some((r) => r > 0) ? summary.shuffleReadMetrics.readRecords : summary.inputMetrics.recordsRead;
    const [medianRecords, maxRecords] = [at(records, 0.5), at(records, 1)];
    const timeSkew = maxMs >= t.skewRatio * Math.max(medianMs, 1) && maxMs - medianMs >= t.skewMinExtraMs;
    const recordSkew = maxRecords >= t.skewMinRecords && maxRecords >= t.skewRecordsRatio * Math.max(medianRecords, 1);
    if (!timeSkew && !recordSkew) continue;
    const ratio = round(maxMs / Math.max(medianMs, 1));
    const recordRatio = round(maxRecords / Math.max(medianRecords, 1));
    out.push({
      kind: "skew",
      severity: "warning",
      stageId,
      attemptId,
      message: `stage ${stageId} (${stage?.description ?? stage?.name ?? "?"}) is skewed: its slowest task took ${fmtMs(maxMs)} against a median of ${fmtMs(medianMs)} (${ratio}×) and read ${maxRecords} records against a median of ${medianRecords} (${recordRatio}×); a few keys hold most of the data`,
      evidence: { maxTaskMs: maxMs, medianTaskMs: medianMs, minTaskMs: minMs, durationRatio: ratio, maxRecords, medianRecords, recordsRatio: recordRatio, tasks: stage?.numTasks ?? 0 },
    });
  }
  return out;
}

function spillingStages(stages: SparkStage[]): Finding[] {
  return stages
    .filter((s) => s.diskBytesSpilled > 0 || s.memoryBytesSpilled > 0)
    .sort((a, b) => b.diskBytesSpilled - a.diskBytesSpilled)
    .map((s) => ({
      kind: "spill" as const,
      severity: "warning" as const,
      stageId: s.stageId,
      attemptId: s.attemptId,
      message: `stage ${s.stageId} (${s.description ?? s.name}) spilled ${fmtBytes(s.diskBytesSpilled)} to disk (${fmtBytes(s.memoryBytesSpilled)} in memory): its tasks ran out of execution memory`,
      evidence: { diskBytesSpilled: s.diskBytesSpilled, memoryBytesSpilled: s.memoryBytesSpilled, shuffleReadBytes: s.shuffleReadBytes, tasks: s.numTasks },
    }));
}

function lostExecutors(executors: SparkExecutor[]): Finding[] {
  const lost = executors.filter((e) => e.id !== "driver" && !e.isActive && e.removeReason);
  if (!lost.length) return [];
  const reasons = [...new Set(lost.map((e) => e.removeReason!))];
  return [
    {
      kind: "lost_executors",
      severity: "error",
      message: `${lost.length} executor(s) were lost: ${reasons.join("; ")}`,
      evidence: { lost: lost.length, total: executors.filter((e) => e.id !== "driver").length, failedTasksOnLost: lost.reduce((n, e) => n + e.failedTasks, 0), reasons: reasons.join("; ") },
    },
  ];
}

// Values come at quantiles [0, 0.5, 1]; other layouts are read by position from the ends.
function at(values: number[], q: 0 | 0.5 | 1): number {
  if (q === 0) return values[0] ?? 0;
  if (q === 1) return values.at(-1) ?? 0;
  return values[Math.floor(values.length / 2)] ?? 0;
}
const round = (x: number) => Math.round(x * 10) / 10;
const fmtMs = (ms: number) => (ms >= 1000 ? `${round(ms / 1000)} s` : `${Math.round(ms)} ms`);
function fmtBytes(b: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (b >= 1024 && i < units.length - 1) {
    b /= 1024;
    i++;
  }
  return `${round(b)} ${units[i]}`;
}
