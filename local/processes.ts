/** Child processes of `make run`: started with their output in a log file, stopped on the way out. */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { waitFor } from "./wait-for.js";

export interface ChildService {
  name: string;
  log: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function startChild(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, log: string): ChildService {
  mkdirSync(dirname(log), { recursive: true });
  const out = openSync(log, "a");
  const child = spawn(command, args, { env, stdio: ["ignore", out, out] });
  closeSync(out);
  let exited = false;
  const done = new Promise<void>((resolve) => child.once("exit", () => ((exited = true), resolve())));
  return {
    name,
    log,
    process: child,
    async stop() {
      if (exited) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await done;
      clearTimeout(timer);
    },
  };
}

/** Resolves once `ready()` is true; rejects early, naming the log, if the child exits first. */
export async function waitUntilReady(service: ChildService, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const exited = () => (service.process.exitCode === null ? undefined : `exited (${service.process.exitCode}); see ${service.log}`);
  await waitFor(`${service.name} (log: ${service.log})`, ready, timeoutMs, 250, exited);
}
