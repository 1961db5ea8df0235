/**
 * Canonical JSON: the text JSON.stringify would give, with every object's keys sorted, so equal
 * values give the same text (and the same hash) whatever order their keys were written in. What
 * a review approves (specHash), a tool call's arguments digest, the operator's view of its
 * children and its "did the status change?" all rest on it, so there is one.
 *
 * Everything else follows JSON.stringify: an undefined (or function) member of an object is left
 * out, an undefined element of an array is `null`, `toJSON` is honoured (a Date is its ISO
 * string). A value that is itself undefined gives `null`, so the result is always a string.
 */
export function canonicalJson(value: unknown): string {
  return write(value) ?? "null";
}

/** Equal as JSON: key order and undefined members do not count. */
export function canonicalEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** The canonical text, or undefined where JSON has no value (undefined, a function, a symbol). */
function write(input: unknown): string | undefined {
  const value = hasToJson(input) ? input.toJSON() : input;
  if (value === null || typeof value !== "object") return JSON.stringify(value) as string | undefined;
  if (Array.isArray(value)) return `[${value.map((v) => write(v) ?? "null").join(",")}]`;
  const members: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const text = write((value as Record<string, unknown>)[key]);
    if (text !== undefined) members.push(`${JSON.stringify(key)}:${text}`);
  }
  return `{${members.join(",")}}`;
}

const hasToJson = (v: unknown): v is { toJSON(): unknown } => v !== null && typeof v === "object" && typeof (v as { toJSON?: unknown }).toJSON === "function";
