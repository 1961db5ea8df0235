/** Where the project and its local state live. */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: the nearest folder above this file whose package.json is toolfleet's. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "toolfleet") return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find the toolfleet repository root above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** `.toolfleet/` in the repository (git-ignored), or TOOLFLEET_STATE_DIR. */
export function stateDir(): string {
  return resolve(process.env.TOOLFLEET_STATE_DIR ?? join(repoRoot(), ".toolfleet"));
}

export const clusterDir = () => join(stateDir(), "cluster");
export const adminKubeconfigPath = () => join(stateDir(), "kubeconfig");
