/**
 * Which installed packages an image needs: the bare imports of its compiled files (`express`,
 * `@modelcontextprotocol/sdk/server/index.js` …), then each package's `dependencies` (and the
 * optional ones that are installed), resolved the way Node does — the package's own
 * node_modules first, then each parent's. A domain server thus leaves out the Kubernetes
 * client only the registry uses.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

const BARE_IMPORT = /(?:^|[\s;])(?:import|export)\s[^;]*?\sfrom\s*["']([^./"'][^"']*)["']|(?:^|[\s;])import\s*\(?\s*["']([^./"'][^"']*)["']/gm;

/** `@scope/name/sub/path.js` → `@scope/name`; `name/sub` → `name`; `node:fs` → undefined. */
export function packageName(specifier: string): string | undefined {
  if (specifier.startsWith("node:")) return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

export function bareImports(files: string[]): string[] {
  const names = new Set<string>();
  for (const file of files) {
    for (const m of readFileSync(file, "utf8").matchAll(BARE_IMPORT)) {
      const name = packageName((m[1] ?? m[2])!);
      if (name) names.add(name);
    }
  }
  return [...names].sort();
}

/** Node's lookup of `name` from a package at `fromDir` (inside `nodeModules`, or its root). */
function resolvePackage(nodeModules: string, fromDir: string, name: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = dir === nodeModules ? join(dir, name) : join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dir === nodeModules || !dir.startsWith(nodeModules)) break;
  }
  const top = join(nodeModules, name);
  return existsSync(join(top, "package.json")) ? top : undefined;
}

/**
 * Directories (relative to `nodeModules`) of the packages `roots` need, sorted. A Node
 * built-in imported without `node:` (none in this project) would show as a missing package.
 */
export function packageClosure(nodeModules: string, roots: string[]): string[] {
  const found = new Set<string>();
  const pending: Array<{ from: string; name: string; optional: boolean }> = roots.map((name) => ({ from: nodeModules, name, optional: false }));
  while (pending.length > 0) {
    const { from, name, optional } = pending.pop()!;
    const dir = resolvePackage(nodeModules, from, name);
    if (!dir) {
      if (optional) continue;
      throw new Error(`package ${name} (needed from ${relative(nodeModules, from) || "the application"}) is not installed`);
    }
    if (found.has(dir)) continue;
    found.add(dir);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(pkg.dependencies ?? {})) pending.push({ from: dir, name: dep, optional: false });
    for (const dep of [...Object.keys(pkg.optionalDependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]) pending.push({ from: dir, name: dep, optional: true });
  }
  return [...found].map((d) => relative(nodeModules, d)).sort();
}
