/**
 * The changes a reviewer is asked to vouch for, as lines of `+ path: value`, `- path: value` and
 * `~ path: before → after` over the reviewed part of a spec (everything but the reviews
 * themselves, replicas and resources). List items that have a `name` (tools) are keyed by it,
 * so reordering a list shows no change and a changed tool shows under its own name.
 *
 * `before` is the spec last approved, or undefined when nothing was (every reviewed field then
 * shows as added); against an approved revision the CLI shows the operator's own comparison.
 */
export interface DiffLine {
  op: "+" | "-" | "~";
  path: string;
  before?: string;
  after?: string;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/** The part of a spec a review vouches for. */
export function reviewedSpec(spec: unknown): Record<string, unknown> {
  if (!isObject(spec)) return {};
  const { review: _review, ...rest } = spec;
  if (isObject(rest.workload)) {
    const { replicas: _replicas, resources: _resources, ...workload } = rest.workload;
    return { ...rest, workload };
  }
  return rest;
}

/** Leaf values by path; named list items under `list[name]`, others under `list[index]`. */
export function flatten(value: unknown, path = "", out = new Map<string, string>()): Map<string, string> {
  if (Array.isArray(value)) {
    if (value.length === 0) out.set(path, "[]");
    const named = value.every((v) => isObject(v) && typeof v.name === "string");
    value.forEach((v, i) => flatten(v, `${path}[${named ? (v as { name: string }).name : i}]`, out));
  } else if (isObject(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    if (keys.length === 0 && path) out.set(path, "{}");
    for (const k of keys) flatten(value[k], path ? `${path}.${k}` : k, out);
  } else {
    out.set(path, JSON.stringify(value));
  }
  return out;
}

export function diffSpecs(before: unknown | undefined, after: unknown): DiffLine[] {
  const a = before === undefined ? new Map<string, string>() : flatten(reviewedSpec(before));
  const b = flatten(reviewedSpec(after));
  const lines: DiffLine[] = [];
  for (const path of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const was = a.get(path);
    const now = b.get(path);
    if (was === now) continue;
    if (was === undefined) lines.push({ op: "+", path, after: now! });
    else if (now === undefined) lines.push({ op: "-", path, before: was });
    else lines.push({ op: "~", path, before: was, after: now });
  }
  return lines;
}

export function renderDiff(lines: readonly DiffLine[]): string {
  if (lines.length === 0) return "  (no change to what a review vouches for)";
  return lines
    .map((l) => (l.op === "~" ? `~ ${l.path}: ${l.before} → ${l.after}` : `${l.op} ${l.path}: ${l.op === "+" ? l.after : l.before}`))
    .join("\n");
}
