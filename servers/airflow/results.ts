// How Airflow's answers and failures read in a tool result: text tables for people, the same
// records as structured content for programs, every failure named by its cause.
import type { CallToolResult } from "@modelcontextprotocol/server";
import { errorResult, textResult, textTable } from "../kit/index.js";
import { AirflowError, type AirflowErrorKind, type Dag, type DagRun, type TaskInstance } from "./client.js";
import type { RunDiagnosis } from "./diagnose.js";

const secs = (s: number | null | undefined) => (s === null || s === undefined ? "" : s >= 60 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`);

/** A task instance as people name it: the task id, with the map index of a mapped task. */
export const taskKey = (ti: Pick<TaskInstance, "task_id" | "map_index">) => (ti.map_index >= 0 ? `${ti.task_id}[${ti.map_index}]` : ti.task_id);

export function dagsResult(dags: Dag[], total: number): CallToolResult {
  const text = dags.length
    ? `${textTable(
        ["dag", "paused", "schedule", "next run after", "tags", "description"],
        dags.map((d) => [d.dag_id, d.is_paused ? "yes" : "no", d.timetable_summary ?? "", d.next_dagrun_run_after ?? "", (d.tags ?? []).map((t) => t.name).join(","), d.description ?? ""]),
      )}\n\n${dags.length} of ${total} DAGs`
    : "no DAGs match";
  return textResult(text, { dags, total });
}

export function runsTable(runs: DagRun[]): string {
  return textTable(
    ["run", "state", "type", "started", "ended", "duration", "triggered by"],
    runs.map((r) => [r.dag_run_id, r.state, r.run_type, r.start_date ?? "", r.end_date ?? "", secs(r.duration), r.triggering_user_name ?? r.triggered_by ?? ""]),
  );
}

export function runsResult(dagId: string, runs: DagRun[], total: number): CallToolResult {
  return textResult(runs.length ? `${dagId}:\n${runsTable(runs)}\n\n${runs.length} of ${total} runs, newest first` : `${dagId} has no runs that match`, { runs, total });
}

export function taskInstancesTable(tis: TaskInstance[]): string {
  return textTable(
    ["task", "state", "try", "of", "operator", "started", "duration"],
    tis.map((t) => [taskKey(t), t.state ?? "none", t.try_number, t.max_tries + 1, t.operator ?? "", t.start_date ?? "", secs(t.duration)]),
  );
}

export function diagnosisResult(d: RunDiagnosis): CallToolResult {
  const lines = [`${d.dagId} run ${d.runId} (${d.state}): ${d.summary}`];
  for (const f of d.failed) {
    lines.push("", `${f.mapIndex >= 0 ? `${f.taskId}[${f.mapIndex}]` : f.taskId}: failed after ${f.tries} of ${f.maxTries} tries`, `  error: ${f.error ?? "none in its log"}`, "  log tail:", ...f.logTail.map((l) => `    ${l}`));
  }
  return textResult(lines.join("\n"), { ...d });
}

const KIND: Record<AirflowErrorKind, string> = {
  unreachable: "Airflow is unreachable",
  timeout: "Airflow did not answer in time",
  auth: "Airflow refused the server's credentials",
  forbidden: "Airflow does not allow this",
  not_found: "not found in Airflow",
  conflict: "Airflow refused a conflicting change",
  bad_request: "Airflow refused the request",
  invalid_id: "not sent to Airflow",
  protocol: "Airflow answered something unexpected",
};

export function airflowFailure(err: unknown): CallToolResult {
  if (err instanceof AirflowError) {
    return errorResult(`${KIND[err.kind]}: ${err.message}`, { error: { kind: err.kind, message: err.message, ...(err.status !== undefined ? { status: err.status } : {}) } });
  }
  throw err;
}
