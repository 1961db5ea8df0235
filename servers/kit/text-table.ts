/**
 * Results as a person reads them in a chat: a fixed-width text table, long cells cut so one
 * wide column cannot push the rest off screen. Structured content carries the full values.
 */

export interface TextTableOptions {
  /** Cells longer than this are cut with "…". */
  maxCellWidth?: number;
}

export function cellText(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  return JSON.stringify(value);
}

export function textTable(header: readonly string[], rows: readonly (readonly unknown[])[], options: TextTableOptions = {}): string {
  const max = options.maxCellWidth ?? 60;
  const cut = (s: string) => {
    const flat = s.replace(/\s*\n\s*/g, " ⏎ ");
    return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
  };
  const cells = rows.map((r) => header.map((_, i) => cut(cellText(r[i]))));
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join(" | ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("-+-"), ...cells.map(line)].join("\n");
}
