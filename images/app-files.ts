/**
 * Which compiled files an image needs: the entrypoint and everything it imports, followed
 * through the relative `import … from "./x.js"` of tsc's output. An image carries its own
 * program and no test, benchmark or local tooling.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";

const RELATIVE_IMPORT = /(?:^|[\s;])(?:import|export)\s[^;]*?\sfrom\s*["'](\.{1,2}\/[^"']+)["']|(?:^|[\s;])import\s*["'](\.{1,2}\/[^"']+)["']/gm;

/** Paths relative to `distRoot` of `entry` and every module it reaches, sorted. */
export function importClosure(distRoot: string, entry: string): string[] {
  const seen = new Set<string>();
  const pending = [resolve(distRoot, entry)];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    if (!existsSync(file)) throw new Error(`${relative(distRoot, file)} is imported but not built: run make build`);
    seen.add(file);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(RELATIVE_IMPORT)) pending.push(resolve(dirname(file), (m[1] ?? m[2])!));
  }
  return [...seen].map((f) => relative(distRoot, f)).sort();
}

