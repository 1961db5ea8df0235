/**
 * `toolfleet impact` and `toolfleet feedback`: the registry's figures of calls and time saved,
 * and a person's word on how much one call saved them. Minutes are checked here, before any
 * request, so a typo never reaches the registry; everything else the registry decides, and its
 * 400 names the field.
 */
import type { Estimate, GroupBy } from "../registry-api/usage/store.js";
import type { Invocation } from "./command-line.js";
import { CliError, EXIT, usageError } from "./errors.js";
import { emit, table, type Format, type Out } from "./output.js";
import { RegistryClient, type ImpactAnswer, type ImpactAsk } from "./registry-client.js";
import { activeSession } from "./session.js";

/** The same bound the registry's feedback schema has: one call saves at most a day. */
export const MAX_MINUTES = 1440;
const MAX_COMMENT = 1000;

const str = (inv: Invocation, name: string) => {
  const v = inv.flags[name];
  return typeof v === "string" ? v : undefined;
};

/** `--minutes`: a number of minutes from 0 to 1440, or a usage error naming the flag. */
export function parseMinutes(value: string | undefined): number {
  if (value === undefined) throw usageError("feedback: --minutes is required: how many minutes one call saved you (0 to 1440)");
  const n = /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isFinite(n)) throw usageError(`--minutes: "${value}" is not a number of minutes (0 to ${MAX_MINUTES})`);
  if (n < 0) throw usageError(`--minutes: ${value} is less than 0`);
  if (n > MAX_MINUTES) throw usageError(`--minutes: ${value} is more than ${MAX_MINUTES} (a whole day)`);
  return n;
}

/** `dev.toolfleet.ns/name` → `ns/name`: namespaces have no dots, so the prefix ends at the last one. */
export const shortServer = (registryName: string | undefined) => (registryName ?? "").replace(/^.*\.([^./]+\/[^/]+)$/, "$1");

const number = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

function impactTable(r: ImpactAnswer): string {
  const keys: Record<GroupBy, string[]> = { server: ["SERVER"], tool: ["SERVER", "TOOL"], team: ["TEAM"], month: ["MONTH"], week: ["WEEK"], day: ["DAY"] };
  const head = keys[r.groupBy];
  const keyCells = (g: ImpactAnswer["groups"][number]): string[] => {
    if (r.groupBy === "server") return [shortServer(g.server ?? g.key)];
    if (r.groupBy === "tool") return [shortServer(g.server), g.tool ?? ""];
    if (r.groupBy === "team") return [g.team ?? g.key];
    return [g.key];
  };
  const figures = (f: ImpactAnswer["total"]) => [String(f.calls), String(f.okCalls), String(f.people), number(f.minutesSaved), number(f.hoursSaved)];
  const rows = r.groups.map((g) => [...keyCells(g), ...figures(g)]);
  rows.push([...head.map((_, i) => (i === 0 ? "TOTAL" : "")), ...figures(r.total)]);
  return table([...head, "CALLS", "OK", "PEOPLE", "MINUTES SAVED", "HOURS SAVED"], rows);
}

export async function impact(inv: Invocation, out: Out, env: NodeJS.ProcessEnv, format: Format): Promise<number> {
  const session = await activeSession(env);
  const registry = new RegistryClient(session);
  const name = str(inv, "server");
  const ask: ImpactAsk = {
    ...(str(inv, "from") ? { from: str(inv, "from")! } : {}),
    ...(str(inv, "to") ? { to: str(inv, "to")! } : {}),
    ...(str(inv, "by") ? { groupBy: str(inv, "by") as GroupBy } : {}),
    ...(str(inv, "estimate") ? { estimate: str(inv, "estimate") as Estimate } : {}),
    // By the name the person knows; unknown or invisible is "not found" before any figure.
    ...(name ? { server: (await registry.server(name)).server.name } : {}),
  };
  const r = await registry.impact(ask);
  emit(out, format, r, () => {
    out.line(`Impact ${r.from} to ${r.to}${name ? ` of ${name}` : ""}, minutes saved as ${r.estimate === "declared" ? "the tools declare them" : "people's feedback says (declared where there is none)"}:`);
    if (r.groups.length === 0) out.line(`No calls you may see${name ? ` to ${name}` : ""} in these days.`);
    else out.line(impactTable(r));
  });
  return EXIT.ok;
}

export async function feedback(inv: Invocation, out: Out, env: NodeJS.ProcessEnv, format: Format): Promise<number> {
  // Everything the CLI can check is checked before signing in or asking anything.
  const minutesSaved = parseMinutes(str(inv, "minutes"));
  const helpful = (str(inv, "helpful") ?? "yes") === "yes";
  const comment = str(inv, "comment");
  if (comment !== undefined && comment.length > MAX_COMMENT) throw usageError(`--comment: ${comment.length} characters, at most ${MAX_COMMENT}`);
  const session = await activeSession(env);
  const registry = new RegistryClient(session);
  const entry = await registry.server(inv.args.server!);
  const tool = inv.args.tool!;
  const stored = await registry.feedback({ server: entry.server.name, tool, minutesSaved, helpful, ...(comment ? { comment } : {}) });
  const estimate = (await registry.estimates(entry.server.name)).tools.find((t) => t.tool === tool);
  if (!estimate) throw new CliError(`the registry stored the feedback but lists no tool ${tool} of ${entry.server.name}`, EXIT.failure);
  const data = { server: entry.server.name, tool, minutesSaved, helpful, ...(comment ? { comment } : {}), replaced: stored.replaced, estimate };
  emit(out, format, data, () => {
    out.line(`${stored.replaced ? "Replaced your feedback of today" : "Thank you"}: ${tool} of ${shortServer(entry.server.name)} saved you ${number(minutesSaved)} minutes${helpful ? "" : " (not helpful)"}.`);
    const median = estimate.feedbackMedianMinutes === null ? "no feedback yet" : `people's median ${number(estimate.feedbackMedianMinutes)} minutes from ${estimate.feedbackCount} answer${estimate.feedbackCount === 1 ? "" : "s"}, ${estimate.helpful} helpful`;
    out.line(`${tool}: declared ${number(estimate.declaredMinutes)} minutes; ${median}.`);
  });
  return EXIT.ok;
}
