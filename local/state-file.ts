/**
 * The build scripts and state files the local components share: the control plane, the real
 * node and the backends each build binaries once into the cache and keep a small JSON record of
 * what they started.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

/** Runs a build script (first time only it builds; its progress goes to stderr) and returns the bin folder it prints last. */
export function buildBinaries(script: string, expected: string): string {
  const out = execFileSync("bash", [script], { stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 20 }).toString().trim();
  const binDir = out.split("\n").pop() ?? "";
  if (!existsSync(join(binDir, expected))) throw new Error(`${basename(script)} did not produce the binaries (said: ${out})`);
  return binDir;
}

export function readJsonState<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch {
    return undefined;
  }
}

/** Written whole or not at all (a reader never sees half a file). */
export function writeJsonState(path: string, state: unknown): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(state, null, 2));
  renameSync(`${path}.tmp`, path);
}
