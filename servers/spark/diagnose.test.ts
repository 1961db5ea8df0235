// diagnose() is pure; the real application's diagnosis is in client.test.ts. Here: what the
// local job cannot produce (lost executors) and how failure reasons are read.
import { describe, expect, it } from "@jest/globals";
import type { SparkExecutor } from "./client.js";
import { diagnose, errorLine } from "./diagnose.js";

const executor = (id: string, over: Partial<SparkExecutor> = {}): SparkExecutor => ({
  id, hostPort: `10.0.0.${id}:7337`, isActive: true, totalCores: 4, activeTasks: 0, failedTasks: 0, completedTasks: 10, totalTasks: 10,
  totalDuration: 1000, totalGCTime: 10, totalInputBytes: 0, totalShuffleRead: 0, totalShuffleWrite: 0, memoryUsed: 0, maxMemory: 1, diskUsed: 0, ...over,
});

describe("diagnose", () => {
  it("names lost executors with their reasons and counts", () => {
    const d = diagnose({
      application: { id: "app-1", name: "etl", attempts: [] },
      jobs: [],
      stages: [],
      taskSummaries: [],
      executors: [
        executor("driver"),
        executor("1"),
        executor("2", { isActive: false, failedTasks: 3, removeReason: "Container killed by YARN for exceeding memory limits. 9.1 GB of 9 GB physical memory used" }),
      ],
    });
    expect(d.findings).toEqual([expect.objectContaining({ kind: "lost_executors", severity: "error", evidence: expect.objectContaining({ lost: 1, total: 2, failedTasksOnLost: 3 }) })]);
    expect(d.summary).toMatch(/1 executor\(s\) were lost: Container killed by YARN/);
  });

  it("says when nothing stands out", () => {
    const d = diagnose({ application: { id: "a", name: "n", attempts: [] }, jobs: [], stages: [], taskSummaries: [], executors: [executor("driver")] });
    expect(d.findings).toEqual([]);
    expect(d.summary).toMatch(/nothing stands out/);
  });

  it("reads the exception line out of JVM and Python failure reasons", () => {
    expect(errorLine("Job aborted due to stage failure: Task 3 failed 4 times, most recent failure: Lost task 3.3: java.lang.OutOfMemoryError: Java heap space\n\tat java.base/x.y(Z.java:1)")).toMatch(/^Job aborted/);
    expect(errorLine("org.apache.spark.api.python.PythonException: Traceback (most recent call last):\n  File \"x.py\", line 1\nKeyError: 'user_id'\n\tat org.apache.spark.X")).toBe("KeyError: 'user_id'");
  });
});
