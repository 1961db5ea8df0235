/**
 * The production dependencies every image carries: `npm ci --omit=dev --ignore-scripts` of the
 * project's own package.json and lock in a staging folder, cached by the lock's hash (the
 * lock pins every version, so the same hash is the same tree). No install script runs.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { cachedDirectory, imagesCacheDir } from "./cache.js";

export function productionNodeModules(repoRoot: string): string {
  const lock = readFileSync(join(repoRoot, "package-lock.json"));
  const pkg = readFileSync(join(repoRoot, "package.json"));
  const hash = createHash("sha256").update(lock).update(pkg).digest("hex").slice(0, 16);
  const dir = cachedDirectory(join(imagesCacheDir(), `node_modules-${hash}`), (tmp) => {
    copyFileSync(join(repoRoot, "package.json"), join(tmp, "package.json"));
    copyFileSync(join(repoRoot, "package-lock.json"), join(tmp, "package-lock.json"));
    execFileSync("npm", ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: tmp, stdio: ["ignore", "ignore", "inherit"] });
  });
  return join(dir, "node_modules");
}
