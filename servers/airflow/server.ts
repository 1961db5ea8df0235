// The Airflow domain server: DAGs, runs, task instances and logs, a diagnosis of a failed run,
// and the four actions an engineer on call takes — trigger, clear, pause, unpause — each shown
// to a person exactly (which DAG, which run, which tasks) before it happens.
import { z } from "zod";
import { callerName, type Caller } from "../../policy/index.js";
import { createDomainServer, explainingFailures, textResult, type DomainServer } from "../kit/index.js";
import { AirflowClient, AirflowError } from "./client.js";
import { airflowConfigFromEnv, type AirflowServerConfig } from "./config.js";
import { diagnoseFailedRun, failedRunInput } from "./diagnose.js";
import { idSchema } from "./ids.js";
import { airflowFailure, dagsResult, diagnosisResult, runsResult, taskInstancesTable, taskKey } from "./results.js";

// Checked as Airflow checks them, before any request (ids.ts).
const dagId = idSchema("DAG id").describe("The DAG id, as list_dags shows it");
const runId = idSchema("run id").describe("The DAG run id, as list_dag_runs shows it, e.g. manual__2025-01-01T12:00:00+00:00");
const taskId = idSchema("task id").describe("The task id, as list_task_instances shows it");
const runStates = z.enum(["queued", "running", "success", "failed"]);

/** How a run the server triggers is noted in Airflow: the person, since Airflow sees only the server's account. */
const noteFor = (caller: Caller, note: string | undefined) => `${note ? `${note} — ` : ""}triggered by ${callerName(caller)} through Toolfleet`;

export function createAirflowServer(configure: AirflowServerConfig | (() => AirflowServerConfig) = () => airflowConfigFromEnv()): DomainServer {
  // Built on first use: see the Presto server for why. One client, so its token is reused.
  let client: AirflowClient | undefined;
  const airflow = () => (client ??= new AirflowClient(typeof configure === "function" ? configure() : configure));
  const guarded = explainingFailures(airflowFailure);
  // What a clear would reset, by a dry run with the very arguments the clear will use.
  const clearArgs = (a: { runId: string; taskIds?: string[] | undefined; onlyFailed: boolean; includeDownstream: boolean }, signal: AbortSignal) => ({
    runId: a.runId,
    onlyFailed: a.onlyFailed,
    includeDownstream: a.includeDownstream,
    ...(a.taskIds?.length ? { taskIds: a.taskIds } : {}),
    signal,
  });

  return createDomainServer({
    name: "airflow",
    version: "3.0.2",
    instructions:
      "Airflow 3. For a failed run: diagnose_failed_run (failed tasks, tries, log tails), then get_task_logs for more. " +
      "trigger_dag_run, clear_task_instances, pause_dag and unpause_dag change Airflow and are confirmed by a person first.",
    tools: [
      {
        name: "list_dags",
        description: "List DAGs with their schedule and state",
        input: z.object({
          idPattern: z.string().min(1).max(250).optional().describe("Only DAGs whose id contains this (SQL LIKE pattern, e.g. orders or %daily%)"),
          paused: z.boolean().optional().describe("Only paused (true) or only active (false) DAGs"),
          tags: z.array(z.string().min(1)).max(20).optional().describe("Only DAGs with one of these tags"),
          limit: z.number().int().min(1).max(500).default(100).describe("At most this many, by id"),
        }),
        readOnly: true,
        handler: (args, ctx) =>
          guarded(async () => {
            const { dags, total } = await airflow().listDags({
              limit: args.limit,
              ...(args.idPattern ? { idPattern: args.idPattern } : {}),
              ...(args.paused !== undefined ? { paused: args.paused } : {}),
              ...(args.tags ? { tags: args.tags } : {}),
              signal: ctx.signal,
            });
            return dagsResult(dags, total);
          }),
      },
      {
        name: "list_dag_runs",
        description: "A DAG's runs with their state",
        input: z.object({
          dagId,
          states: z.array(runStates).max(4).optional().describe("Only runs in these states"),
          limit: z.number().int().min(1).max(500).default(25).describe("At most this many, newest first"),
        }),
        readOnly: true,
        handler: (args, ctx) =>
          guarded(async () => {
            const { runs, total } = await airflow().dagRuns(args.dagId, { limit: args.limit, ...(args.states ? { state: args.states } : {}), signal: ctx.signal });
            return runsResult(args.dagId, runs, total);
          }),
      },
      {
        name: "list_task_instances",
        description: "A run's task instances with state and tries",
        input: z.object({ dagId, runId }),
        readOnly: true,
        handler: (args, ctx) =>
          guarded(async () => {
            const [run, tis] = await Promise.all([airflow().dagRun(args.dagId, args.runId, ctx.signal), airflow().taskInstances(args.dagId, args.runId, ctx.signal)]);
            return textResult(`${args.dagId} run ${args.runId} (${run.state}):\n${taskInstancesTable(tis)}`, { run, taskInstances: tis });
          }),
      },
      {
        name: "get_task_logs",
        description: "A task instance's log",
        input: z.object({
          dagId,
          runId,
          taskId,
          tryNumber: z.number().int().min(1).optional().describe("Which try (default: the latest)"),
          mapIndex: z.number().int().min(-1).default(-1).describe("The map index of a mapped task (-1: not mapped)"),
          tailLines: z.number().int().min(1).max(5000).default(200).describe("Only the last this many lines"),
        }),
        readOnly: true,
        handler: (args, ctx) =>
          guarded(async () => {
            let tryNumber = args.tryNumber;
            if (tryNumber === undefined) {
              const ti = (await airflow().taskInstances(args.dagId, args.runId, ctx.signal)).find((t) => t.task_id === args.taskId && t.map_index === args.mapIndex);
              if (!ti) throw new AirflowError("not_found", `run ${args.runId} of ${args.dagId} has no task ${taskKey({ task_id: args.taskId, map_index: args.mapIndex })}`);
              if (ti.try_number < 1) return textResult(`${taskKey(ti)} has not run yet in ${args.runId} (state ${ti.state ?? "none"}): there is no log`, { taskInstance: ti, lines: [], errors: [] });
              tryNumber = ti.try_number;
            }
            const log = await airflow().taskLog(args.dagId, args.runId, args.taskId, tryNumber, { mapIndex: args.mapIndex, signal: ctx.signal });
            const lines = log.lines.slice(-args.tailLines);
            const cut = log.lines.length > lines.length ? ` (last ${lines.length} of ${log.lines.length} lines)` : "";
            const errors = log.errors.length ? `\n\nerrors:\n${log.errors.join("\n")}` : "";
            return textResult(`${args.taskId}, try ${tryNumber}, of ${args.dagId} run ${args.runId}${cut}:\n${lines.join("\n")}${errors}`, { tryNumber, lines, errors: log.errors, totalLines: log.lines.length });
          }),
      },
      {
        name: "diagnose_failed_run",
        description: "The failed tasks of a run, their tries and log tails",
        input: z.object({
          dagId,
          runId: runId.optional().describe("The run to diagnose (default: the DAG's latest failed run)"),
          tailLines: z.number().int().min(1).max(500).default(20).describe("Log lines to show per failed task"),
        }),
        readOnly: true,
        handler: (args, ctx) => guarded(async () => diagnosisResult(diagnoseFailedRun(await failedRunInput(airflow(), args.dagId, args.runId, ctx.signal), args.tailLines))),
      },
      {
        name: "trigger_dag_run",
        description: "Start a new DAG run",
        input: z.object({
          dagId,
          conf: z.record(z.string(), z.unknown()).optional().describe("The run's configuration (params), as JSON"),
          runId: runId.optional().describe("The new run's id (default: Airflow names it manual__<time>)"),
          note: z.string().max(1000).optional().describe("Why it is triggered; the caller's name is added"),
        }),
        sensitive: true,
        confirm: async (args, ctx) => {
          const dag = await airflow().dag(args.dagId, ctx.signal);
          const paused = dag.is_paused ? " The DAG is paused: the run waits until it is unpaused." : "";
          return `Start a new run of DAG ${dag.dag_id}${dag.description ? ` (${dag.description})` : ""}${args.runId ? ` with run id ${args.runId}` : ""}, conf ${JSON.stringify(args.conf ?? {})}?${paused}`;
        },
        handler: (args, ctx) =>
          guarded(async () => {
            const run = await airflow().triggerDagRun(args.dagId, {
              ...(args.conf ? { conf: args.conf } : {}),
              ...(args.runId ? { runId: args.runId } : {}),
              note: noteFor(ctx.caller, args.note),
              signal: ctx.signal,
            });
            return textResult(`Started run ${run.dag_run_id} of ${run.dag_id}; it is ${run.state}.`, { run });
          }),
      },
      {
        name: "clear_task_instances",
        description: "Clear task instances so they run again",
        input: z.object({
          dagId,
          runId,
          taskIds: z.array(taskId).max(500).optional().describe("Only these tasks (default: every task of the run that onlyFailed admits)"),
          onlyFailed: z.boolean().default(true).describe("Only failed and upstream-failed task instances"),
          includeDownstream: z.boolean().default(true).describe("Also clear the tasks downstream of those, so they run again after them"),
        }),
        sensitive: true,
        // A dry run with the same arguments names the task instances that will be reset.
        confirm: async (args, ctx) => {
          const preview = await airflow().clearTaskInstances(args.dagId, { ...clearArgs(args, ctx.signal), dryRun: true });
          if (!preview.length) throw new Error(`no task instance of run ${args.runId} of ${args.dagId} matches${args.onlyFailed ? " (only failed ones were asked for)" : ""}: nothing to clear`);
          const tasks = preview.map((t) => `${taskKey(t)} (${t.state ?? "none"})`).join(", ");
          return `Clear ${preview.length} task instance${preview.length === 1 ? "" : "s"} of run ${args.runId} of DAG ${args.dagId} so the scheduler runs them again: ${tasks}? The run goes back to queued.`;
        },
        handler: (args, ctx) =>
          guarded(async () => {
            const cleared = await airflow().clearTaskInstances(args.dagId, clearArgs(args, ctx.signal));
            return textResult(`Cleared ${cleared.length} task instance${cleared.length === 1 ? "" : "s"} of ${args.dagId} run ${args.runId}: ${cleared.map(taskKey).join(", ")}. The scheduler runs them again.`, {
              cleared: cleared.map((t) => ({ taskId: t.task_id, mapIndex: t.map_index, previousState: t.state })),
            });
          }),
      },
      pauseTool("pause_dag", true),
      pauseTool("unpause_dag", false),
    ],
  });

  function pauseTool(name: "pause_dag" | "unpause_dag", pause: boolean) {
    return {
      name,
      description: pause ? "Pause a DAG's schedule" : "Resume a DAG's schedule",
      input: z.object({ dagId }),
      sensitive: true,
      confirm: async (args: { dagId: string }, ctx: { signal: AbortSignal }) => {
        const dag = await airflow().dag(args.dagId, ctx.signal);
        if (dag.is_paused === pause) throw new Error(`DAG ${dag.dag_id} is already ${pause ? "paused" : "active"}: nothing to change`);
        const schedule = dag.timetable_summary ? ` (schedule ${dag.timetable_summary})` : "";
        return pause
          ? `Pause DAG ${dag.dag_id}${schedule}? The scheduler starts no new runs or tasks of it until it is unpaused; tasks already running finish.`
          : `Unpause DAG ${dag.dag_id}${schedule}? The scheduler resumes it: runs that are due start, and queued runs proceed.`;
      },
      handler: (args: { dagId: string }, ctx: { signal: AbortSignal }) =>
        guarded(async () => {
          const dag = pause ? await airflow().pauseDag(args.dagId, ctx.signal) : await airflow().unpauseDag(args.dagId, ctx.signal);
          return textResult(`DAG ${dag.dag_id} is now ${dag.is_paused ? "paused" : "active"}.`, { dagId: dag.dag_id, isPaused: dag.is_paused });
        }),
    };
  }
}

export default createAirflowServer();
