// The Spark domain server: applications, their jobs, stages and executors, the slowest stages
// with their task time spread, and a diagnosis that names the likely cause with its numbers.
// All read-only, against a history server or a live driver (both serve /api/v1).
import { z } from "zod";
import { createDomainServer, explainingFailures, textResult, type DomainServer } from "../kit/index.js";
import { type AppRef, SparkClient } from "./client.js";
import { sparkConfigFromEnv, type SparkServerConfig } from "./config.js";
import { diagnose } from "./diagnose.js";
import { idSchema } from "./ids.js";
import { applicationsResult, diagnosisResult, executorsResult, jobsTable, jobsResult, ms, slowestResult, sparkFailure, stagesResult, stagesTable } from "./results.js";

const app = {
  // Checked before any request (ids.ts).
  appId: idSchema("application id", 256).describe("The application id, as list_applications shows it, e.g. app-20250101120000-0001 or application_1700000000000_0042"),
  attemptId: idSchema("attempt id", 64).optional().describe("The attempt, only for cluster managers with attempts (YARN); default: the application as a whole"),
};
const refOf = (args: { appId: string; attemptId?: string | undefined }): AppRef => ({ appId: args.appId, ...(args.attemptId ? { attemptId: args.attemptId } : {}) });

export function createSparkServer(configure: SparkServerConfig | (() => SparkServerConfig) = () => sparkConfigFromEnv()): DomainServer {
  // Built on first use: see the Presto server for why.
  let client: SparkClient | undefined;
  const spark = () => (client ??= new SparkClient(typeof configure === "function" ? configure() : configure));
  const guarded = explainingFailures(sparkFailure);

  return createDomainServer({
    name: "spark",
    version: "2.1.0",
    instructions:
      "Spark applications from the history server or a live driver. Start with list_applications, then diagnose_application for a failed or slow one; " +
      "application_summary, list_jobs, list_stages, slowest_stages and executor_metrics show the details behind it.",
    tools: [
      {
        name: "list_applications",
        description: "List applications with their state and duration",
        input: z.object({
          status: z.enum(["completed", "running"]).optional().describe("Only completed or only running applications (default: both)"),
          limit: z.number().int().min(1).max(500).default(50).describe("At most this many, newest first"),
        }),
        readOnly: true,
        handler: (args, ctx) => guarded(async () => applicationsResult(await spark().listApplications({ ...(args.status ? { status: args.status } : {}), limit: args.limit, signal: ctx.signal }))),
      },
      {
        name: "application_summary",
        description: "An application's jobs, stages, duration and failures",
        input: z.object(app),
        readOnly: true,
        handler: (args, ctx) =>
          guarded(async () => {
            const ref = refOf(args);
            const opts = { signal: ctx.signal };
            const [application, jobs, stages, executors] = await Promise.all([spark().application(ref, ctx.signal), spark().jobs(ref, opts), spark().stages(ref, opts), spark().executors(ref, opts)]);
            const attempt = application.attempts[0];
            const failedJobs = jobs.filter((j) => j.status === "FAILED");
            const failedStages = stages.filter((s) => s.status === "FAILED");
            const lost = executors.filter((e) => e.id !== "driver" && !e.isActive);
            const count = (xs: { status: string }[]) => Object.entries(xs.reduce<Record<string, number>>((m, x) => ((m[x.status] = (m[x.status] ?? 0) + 1), m), {})).map(([k, v]) => `${v} ${k.toLowerCase()}`).join(", ");
            const lines = [
              `${application.name} (${application.id}), ${attempt?.completed === false ? "running" : "completed"}${attempt?.sparkUser ? `, run by ${attempt.sparkUser}` : ""}${attempt?.appSparkVersion ? `, Spark ${attempt.appSparkVersion}` : ""}`,
              `started ${attempt?.startTime ?? "?"}${attempt?.duration !== undefined ? `, took ${ms(attempt.duration)}` : ""}`,
              `jobs: ${jobs.length} (${count(jobs) || "none"})`,
              `stages: ${stages.length} (${count(stages) || "none"})`,
              `executors: ${executors.filter((e) => e.id !== "driver").length} (${lost.length} removed), tasks failed: ${executors.reduce((n, e) => n + e.failedTasks, 0)}`,
            ];
            if (failedJobs.length) lines.push("", "failed jobs:", jobsTable(failedJobs));
            if (failedStages.length) lines.push("", "failed stages:", stagesTable(failedStages));
            return textResult(lines.join("\n"), {
              application,
              jobs: { total: jobs.length, failed: failedJobs.map((j) => j.jobId) },
              stages: { total: stages.length, failed: failedStages.map((s) => ({ stageId: s.stageId, attemptId: s.attemptId, description: s.description ?? s.name })) },
              executors: { total: executors.filter((e) => e.id !== "driver").length, removed: lost.length },
            });
          }),
      },
      {
        name: "list_jobs",
        description: "An application's jobs with their failures",
        input: z.object({ ...app, status: z.enum(["running", "succeeded", "failed", "unknown"]).optional().describe("Only jobs in this state") }),
        readOnly: true,
        handler: (args, ctx) => guarded(async () => jobsResult(await spark().jobs(refOf(args), { ...(args.status ? { status: args.status } : {}), signal: ctx.signal }))),
      },
      {
        name: "list_stages",
        description: "An application's stages with their failures",
        input: z.object({ ...app, status: z.enum(["active", "complete", "pending", "failed", "skipped"]).optional().describe("Only stages in this state") }),
        readOnly: true,
        handler: (args, ctx) => guarded(async () => stagesResult(await spark().stages(refOf(args), { ...(args.status ? { status: args.status } : {}), signal: ctx.signal }))),
      },
      {
        name: "slowest_stages",
        description: "The slowest stages and their task time spread",
        input: z.object({ ...app, limit: z.number().int().min(1).max(50).default(5).describe("How many stages, slowest first (by summed task run time)") }),
        readOnly: true,
        handler: (args, ctx) =>
          guarded(async () => {
            const ref = refOf(args);
            const slowest = await spark().slowestStages(ref, args.limit, ctx.signal);
            // A stage still running or never run has no task summary yet; it is shown without one.
            const spreads = await Promise.all(
              slowest.map(async (stage) => ({
                stage,
                summary: stage.numCompleteTasks > 0 ? await spark().taskSummary(ref, stage.stageId, stage.attemptId, [0, 0.5, 1], ctx.signal).catch(() => undefined) : undefined,
              })),
            );
            return slowestResult(spreads);
          }),
      },
      {
        name: "executor_metrics",
        description: "Executors' memory, GC, shuffle and loss",
        input: z.object({ ...app, includeRemoved: z.boolean().default(true).describe("Include executors that were removed or lost, with the reason") }),
        readOnly: true,
        handler: (args, ctx) => guarded(async () => executorsResult(await spark().executors(refOf(args), { includeRemoved: args.includeRemoved, signal: ctx.signal }))),
      },
      {
        name: "diagnose_application",
        description: "Name the likely cause of a failed or slow application, with the numbers",
        input: z.object(app),
        readOnly: true,
        handler: (args, ctx) => guarded(async () => diagnosisResult(diagnose(await spark().diagnosisInput(refOf(args), ctx.signal)))),
      },
    ],
  });
}

export default createSparkServer();
