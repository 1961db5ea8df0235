/**
 * waitForRun against an Airflow stand-in: a poll Airflow leaves unanswered (busy running the
 * tasks waited for) is one more poll; the wait still ends at its own deadline.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { AirflowClient, AirflowError } from "./client.js";

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

const run = (state: string) => ({ dag_run_id: "r1", dag_id: "d", state, run_type: "manual" });

/** Answers /auth/token at once and the run's polls from `polls` in turn: a state, or "silent" (never answered). */
async function airflow(polls: string[]): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      if (req.url === "/auth/token") return res.end(JSON.stringify({ access_token: "t" }));
      const poll = polls[Math.min(seen.length, polls.length - 1)]!;
      seen.push(poll);
      if (poll !== "silent") res.end(JSON.stringify(run(poll)));
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe("waitForRun", () => {
  it("takes an unanswered poll as one more poll, and returns the run once it is final", async () => {
    const { url, seen } = await airflow(["running", "silent", "failed"]);
    const client = new AirflowClient({ url, username: "u", password: "p", timeoutMs: 200 });
    expect(await client.waitForRun("d", "r1", { timeoutMs: 10_000, intervalMs: 10 })).toMatchObject({ state: "failed" });
    expect(seen).toEqual(["running", "silent", "failed"]);
  });

  it("ends at its own deadline when Airflow never answers", async () => {
    const { url } = await airflow(["silent"]);
    const client = new AirflowClient({ url, username: "u", password: "p", timeoutMs: 200 });
    const err = await client.waitForRun("d", "r1", { timeoutMs: 500, intervalMs: 10 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AirflowError);
    expect(err).toMatchObject({ kind: "timeout" });
  });
});
