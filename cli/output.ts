/**
 * How results are printed: aligned tables and short lines for people, `-o json` and `-o yaml`
 * for scripts (the same data, whole, with nothing else on stdout).
 */
import { stringify } from "yaml";
import { usageError } from "./errors.js";

export const FORMATS = ["table", "json", "yaml"] as const;
export type Format = (typeof FORMATS)[number];

export function parseFormat(value: string | undefined): Format {
  const v = value ?? "table";
  if (!(FORMATS as readonly string[]).includes(v)) throw usageError(`-o/--output: "${v}" is not one of ${FORMATS.join(", ")}`);
  return v as Format;
}

export interface Out {
  line(text?: string): void;
  /** Notes for people (progress, hints): stderr, so stdout stays clean for scripts. */
  note(text: string): void;
}

export const processOut: Out = {
  line: (text = "") => void process.stdout.write(`${text}\n`),
  note: (text) => void process.stderr.write(`${text}\n`),
};

/** A table with a header row, columns padded to their widest cell. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const fmt = (r: readonly string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("   ").trimEnd();
  return [fmt(header), ...rows.map(fmt)].join("\n");
}

/** Prints data as JSON or YAML, or calls `human` for the table form. */
export function emit(out: Out, format: Format, data: unknown, human: () => void): void {
  if (format === "json") out.line(JSON.stringify(data, null, 2));
  else if (format === "yaml") out.line(stringify(data).trimEnd());
  else human();
}
