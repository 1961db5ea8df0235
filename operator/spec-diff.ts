/**
 * What reviewers approve, field by field: the reviewed fields that differ between the approved
 * revision and the pending spec, each with its old and new value. Lists of named things (tools,
 * env) are compared by name, so a reordering is no change and a path names the element
 * (spec.tools[name=query].description); sets of strings are compared as sets.
 */
import type { McpServerSpec, ServedSpec } from "../crds/index.js";
import { reviewedContent } from "./spec-hash.js";
import { canonicalJson } from "../common/canonical-json.js";

export interface FieldChange {
  path: string;
  /** JSON of the approved value; absent if it was not set. */
  old?: string;
  /** JSON of the pending value; absent if it is removed. */
  new?: string;
}

const MAX_VALUE = 2048;
const json = (v: unknown) => {
  const s = canonicalJson(v);
  return s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE - 1)}…` : s;
};
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const isNamedList = (v: unknown): v is Array<{ name: string }> =>
  Array.isArray(v) && v.length > 0 && v.every((e) => isObject(e) && typeof e.name === "string");

function diff(path: string, a: unknown, b: unknown, out: FieldChange[]): void {
  if (canonicalJson(a ?? null) === canonicalJson(b ?? null)) return;
  if (isObject(a) && isObject(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) diff(`${path}.${k}`, a[k], b[k], out);
    return;
  }
  if ((isNamedList(a) || a === undefined) && (isNamedList(b) || b === undefined) && (a ?? b) !== undefined) {
    const before = out.length;
    const byName = (xs: Array<{ name: string }> | undefined) => new Map((xs ?? []).map((x) => [x.name, x]));
    const am = byName(a as Array<{ name: string }> | undefined);
    const bm = byName(b as Array<{ name: string }> | undefined);
    for (const name of [...new Set([...am.keys(), ...bm.keys()])].sort()) diff(`${path}[name=${name}]`, am.get(name), bm.get(name), out);
    // The order of env matters (later entries refer to earlier ones): say so when only it changed.
    if (out.length === before) out.push({ path, old: json(a), new: json(b) });
    return;
  }
  out.push({ path, ...(a === undefined ? {} : { old: json(a) }), ...(b === undefined ? {} : { new: json(b) }) });
}

/** The reviewed fields that differ, sorted by path (at most `limit`). */
export function specChanges(approved: ServedSpec, pending: McpServerSpec | ServedSpec, limit = 64): FieldChange[] {
  const out: FieldChange[] = [];
  diff("spec", reviewedContent(approved), reviewedContent(pending), out);
  return out.slice(0, limit);
}
