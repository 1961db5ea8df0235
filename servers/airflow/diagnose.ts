// What went wrong in a failed DAG run: the failed tasks, how often each was tried, the error it
// raised and the tail of its last log. diagnoseFailedRun is pure; failedRunInput fetches for it.
import { type AirflowClient, AirflowError, type DagRun, type TaskInstance, type TaskLog } from "./client.js";

export interface FailedRunInput {
  run: DagRun;
  taskInstances: TaskInstance[];
  /** The log of each failed task's last try, by task id (and map index, as "task[3]"). */
  logs: Record<string, TaskLog>;
}

export interface FailedTask {
  taskId: string;
  mapIndex: number;
  /** How many times it ran, and how many it was allowed (1 + retries). */
  tries: number;
  maxTries: number;
  error: string | undefined;
  logTail: string[];
}

export interface RunDiagnosis {
  dagId: string;
  runId: string;
  state: string;
  summary: string;
  failed: FailedTask[];
  /** Tasks that did not run because something upstream failed. */
  upstreamFailed: string[];
}

const key = (ti: Pick<TaskInstance, "task_id" | "map_index">) => (ti.map_index >= 0 ? `${ti.task_id}[${ti.map_index}]` : ti.task_id);

export function diagnoseFailedRun(input: FailedRunInput, tailLines = 20): RunDiagnosis {
  const failed = input.taskInstances
    .filter((ti) => ti.state === "failed")
    .map((ti): FailedTask => {
      const log = input.logs[key(ti)];
      return {
        taskId: ti.task_id,
        mapIndex: ti.map_index,
        tries: ti.try_number,
        // Airflow's max_tries counts retries; the first try is on top.
        maxTries: ti.max_tries + 1,
        error: log?.errors.at(-1),
        logTail: log ? log.lines.slice(-tailLines) : [],
      };
    });
  const upstreamFailed = input.taskInstances.filter((ti) => ti.state === "upstream_failed").map(key);
  const { dag_id: dagId, dag_run_id: runId, state } = input.run;
  const summary = failed.length
    ? failed.map((f) => `${f.mapIndex >= 0 ? `${f.taskId}[${f.mapIndex}]` : f.taskId} failed after ${f.tries} of ${f.maxTries} tries: ${f.error ?? "no error in its log"}`).join("; ") +
      (upstreamFailed.length ? `; not run as a result: ${upstreamFailed.join(", ")}` : "")
    : state === "failed"
      ? "the run failed but no task did (a timeout of the run, or a failure outside tasks)"
      : `the run is ${state}; no task failed`;
  return { dagId, runId, state, summary, failed, upstreamFailed };
}

/** Fetches a run, its task instances and the last-try logs of its failed tasks. */
export async function failedRunInput(client: AirflowClient, dagId: string, runId?: string, signal?: AbortSignal): Promise<FailedRunInput> {
  const run = runId ? await client.dagRun(dagId, runId, signal) : (await client.dagRuns(dagId, { limit: 1, state: ["failed"], ...(signal ? { signal } : {}) })).runs[0];
  if (!run) throw new AirflowError("not_found", `${dagId} has no failed run`);
  const taskInstances = await client.taskInstances(dagId, run.dag_run_id, signal);
  const logs: Record<string, TaskLog> = {};
  await Promise.all(
    taskInstances
      .filter((ti) => ti.state === "failed" && ti.try_number > 0)
      .map(async (ti) => {
        logs[key(ti)] = await client.taskLog(dagId, run.dag_run_id, ti.task_id, ti.try_number, { mapIndex: ti.map_index, ...(signal ? { signal } : {}) });
      }),
  );
  return { run, taskInstances, logs };
}
