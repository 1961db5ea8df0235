/**
 * The CLI's grammar: a tree of commands, each with its arguments and flags, parsed from argv
 * without a dependency; `--help` for every command and the completion candidates come from the
 * same table, so they never disagree with what is accepted.
 */
import { usageError } from "./errors.js";

export interface FlagSpec {
  name: string;
  short?: string;
  /** A boolean flag takes no value. */
  boolean?: boolean;
  value?: string;
  help: string;
  /** The values it accepts, for help and completion. */
  choices?: readonly string[];
}
export interface ArgSpec {
  name: string;
  required: boolean;
  help: string;
  /** Completion: server names from the registry, or nothing. */
  complete?: "servers" | "review-refs";
}
export interface Invocation {
  args: Record<string, string | undefined>;
  flags: Record<string, string | boolean | undefined>;
}
export interface CommandSpec {
  path: readonly string[];
  summary: string;
  description?: string;
  args: readonly ArgSpec[];
  flags: readonly FlagSpec[];
  examples?: readonly string[];
}

export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: "output", short: "o", value: "format", help: "table (default), json or yaml", choices: ["table", "json", "yaml"] },
  { name: "help", short: "h", boolean: true, help: "show help for the command" },
];

export type Parsed = { kind: "run"; command: CommandSpec; invocation: Invocation } | { kind: "help"; path: string[] };

/** The command named by the longest prefix of `words` that is a command path. */
export function findCommand(commands: readonly CommandSpec[], words: readonly string[]): { command?: CommandSpec; consumed: number } {
  let best: { command?: CommandSpec; consumed: number } = { consumed: 0 };
  for (const c of commands) {
    if (c.path.length <= words.length && c.path.every((p, i) => words[i] === p) && c.path.length > best.consumed) best = { command: c, consumed: c.path.length };
  }
  return best;
}

export function parse(commands: readonly CommandSpec[], argv: readonly string[]): Parsed {
  const positional: string[] = [];
  const rawFlags: Array<{ name: string; value?: string; at: number }> = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    const long = /^--([a-z][a-z0-9-]*)(?:=(.*))?$/s.exec(a);
    const short = /^-([a-zA-Z])$/.exec(a);
    if (long) rawFlags.push({ name: long[1]!, ...(long[2] !== undefined ? { value: long[2] } : {}), at: i });
    else if (short) rawFlags.push({ name: short[1]!, at: i });
    else if (a.startsWith("-") && a !== "-") throw usageError(`unknown flag ${a}`);
    else {
      positional.push(a);
    }
  }
  // Flags may come anywhere, so which words are values is known only with the command's table:
  // find the command from the positional words first, then take values.
  const { command, consumed } = findCommand(commands, positional);
  const wantsHelp = rawFlags.some((f) => f.name === "help" || f.name === "h");
  if (!command || wantsHelp) {
    if (!command && positional.length > 0 && !wantsHelp) {
      const known = commands.filter((c) => c.path[0] === positional[0]);
      if (known.length === 0) throw usageError(`unknown command "${positional[0]}": toolfleet --help lists them`);
    }
    return { kind: "help", path: command ? [...command.path] : positional.filter((p) => commands.some((c) => c.path[0] === p)).slice(0, 1) };
  }
  const specs = [...command.flags, ...GLOBAL_FLAGS];
  const flags: Invocation["flags"] = {};
  const taken = new Set<number>();
  for (const f of rawFlags) {
    const spec = specs.find((s) => s.name === f.name || s.short === f.name);
    if (!spec) throw usageError(`${command.path.join(" ")}: unknown flag ${f.name.length === 1 ? "-" : "--"}${f.name} (see toolfleet ${command.path.join(" ")} --help)`);
    if (spec.boolean) {
      if (f.value !== undefined && !["true", "false"].includes(f.value)) throw usageError(`--${spec.name} takes no value`);
      flags[spec.name] = f.value !== "false";
      continue;
    }
    let value = f.value;
    if (value === undefined) {
      value = argv[f.at + 1];
      if (value === undefined || value.startsWith("-")) throw usageError(`--${spec.name} needs a value (${spec.value ?? "value"})`);
      taken.add(f.at + 1);
    }
    if (spec.choices && !spec.choices.includes(value)) throw usageError(`--${spec.name}: "${value}" is not one of ${spec.choices.join(", ")}`);
    flags[spec.name] = value;
  }
  // Positional words again, without those that were flag values.
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (taken.has(i) || (a.startsWith("-") && a !== "-")) continue;
    words.push(a);
  }
  const rest = words.slice(consumed);
  const args: Invocation["args"] = {};
  command.args.forEach((spec, i) => {
    if (rest[i] === undefined && spec.required) throw usageError(`${command.path.join(" ")}: missing <${spec.name}> (usage: ${usageLine(command)})`);
    args[spec.name] = rest[i];
  });
  if (rest.length > command.args.length) throw usageError(`${command.path.join(" ")}: unexpected argument "${rest[command.args.length]}" (usage: ${usageLine(command)})`);
  return { kind: "run", command, invocation: { args, flags } };
}

export function usageLine(c: CommandSpec): string {
  const args = c.args.map((a) => (a.required ? `<${a.name}>` : `[${a.name}]`));
  const flags = c.flags.map((f) => (f.boolean ? `[--${f.name}]` : `--${f.name} <${f.value ?? "value"}>`));
  return ["toolfleet", ...c.path, ...args, ...flags].join(" ");
}

function flagLines(flags: readonly FlagSpec[]): string[] {
  return flags.map((f) => {
    const name = `${f.short ? `-${f.short}, ` : "    "}--${f.name}${f.boolean ? "" : ` <${f.value ?? "value"}>`}`;
    return `  ${name.padEnd(30)} ${f.help}`;
  });
}

export function helpText(commands: readonly CommandSpec[], path: readonly string[], intro: string): string {
  const exact = commands.find((c) => c.path.join(" ") === path.join(" "));
  const children = commands.filter((c) => c.path.length > path.length && path.every((p, i) => c.path[i] === p));
  const lines: string[] = [];
  if (exact) {
    lines.push(exact.summary, "", `Usage: ${usageLine(exact)}`);
    if (exact.description) lines.push("", exact.description);
    if (exact.args.length) lines.push("", "Arguments:", ...exact.args.map((a) => `  ${a.name.padEnd(30)} ${a.help}`));
    lines.push("", "Flags:", ...flagLines([...exact.flags, ...GLOBAL_FLAGS]));
    if (exact.examples?.length) lines.push("", "Examples:", ...exact.examples.map((e) => `  ${e}`));
  } else {
    lines.push(path.length ? `toolfleet ${path.join(" ")}: ${children.length} commands` : intro, "", "Commands:");
    for (const c of children) lines.push(`  ${c.path.join(" ").padEnd(30)} ${c.summary}`);
    lines.push("", "Flags:", ...flagLines(GLOBAL_FLAGS), "", `Run toolfleet ${path.length ? `${path.join(" ")} ` : ""}<command> --help for a command's arguments and flags.`);
  }
  return lines.join("\n");
}

/** Candidates for the word being typed, given the words before it (shell completion). */
export function staticCandidates(commands: readonly CommandSpec[], before: readonly string[], current: string): { words: string[]; arg?: ArgSpec } {
  const positional = before.filter((w) => !w.startsWith("-"));
  const { command, consumed } = findCommand(commands, positional);
  const prev = before.at(-1);
  if (command && prev?.startsWith("-")) {
    const spec = [...command.flags, ...GLOBAL_FLAGS].find((f) => `--${f.name}` === prev || `-${f.short}` === prev);
    if (spec && !spec.boolean) return { words: (spec.choices ?? []).filter((c) => c.startsWith(current)) };
  }
  if (current.startsWith("-")) {
    const flags = command ? [...command.flags, ...GLOBAL_FLAGS] : GLOBAL_FLAGS;
    return { words: flags.map((f) => `--${f.name}`).filter((f) => f.startsWith(current)) };
  }
  const next = new Set(
    commands.filter((c) => c.path.length > positional.length && positional.every((p, i) => c.path[i] === p)).map((c) => c.path[positional.length]!),
  );
  const words = [...next].filter((w) => w.startsWith(current));
  const arg = command ? command.args[positional.length - consumed] : undefined;
  return { words, ...(arg ? { arg } : {}) };
}
