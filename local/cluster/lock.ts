/**
 * A lock file that serialises work across processes (parallel jest runs, make run): starting
 * the control plane, the real node or a backend. Taken over when its holder's pid is gone.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export interface LockOptions {
  timeoutMs?: number;
  /** Called once, with the holder's pid, when the lock is held by another process. */
  waiting?: (holder: number) => void;
}

export async function withLock<T>(path: string, work: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30 * 60_000;
  let announced = false;
  mkdirSync(dirname(path), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = Number(readFileSafe(path));
      if (!alive(holder)) {
        rmSync(path, { force: true }); // left by a process that died holding it
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${path} is held by process ${holder} for too long`);
      if (!announced) options.waiting?.(holder);
      announced = true;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(path, { force: true });
  }
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** Is a process with this pid still there? */
export function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
