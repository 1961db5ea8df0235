/**
 * Where the image builder keeps what it fetched or staged between runs: Debian packages, the
 * stripped Node binary and the production node_modules, each under a name that carries its
 * version or the hash of what produced it, so a stale entry is never reused.
 */
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export function imagesCacheDir(): string {
  const dir = process.env.TOOLFLEET_IMAGES_CACHE ?? join(homedir(), ".cache", "toolfleet", "images");
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Fills `final` once: `fill` writes into a temporary sibling, renamed into place only when
 * complete, so an interrupted build never leaves a half-filled entry behind.
 */
export function cachedDirectory(final: string, fill: (tmp: string) => void): string {
  if (existsSync(final)) return final; // filled by an earlier run
  const tmp = `${final}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  fill(tmp);
  renameSync(tmp, final);
  return final;
}
