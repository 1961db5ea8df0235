/**
 * A component's configuration table: each setting is a flag (`--name=value`) or an environment
 * variable, and the flag wins. Values are refused through the component's own error class, so
 * its `main` can tell a configuration mistake from a crash.
 */

export interface Flag {
  flag: string;
  env: string;
  help: string;
}

/** `component` names it in the unknown-argument message, e.g. "the operator". */
export function defineFlags(component: string, flags: Record<string, Flag>, makeError: (message: string) => Error) {
  const usage = (): string =>
    Object.values(flags)
      .map((f) => `  --${f.flag.padEnd(28)} ${f.env.padEnd(38)} ${f.help}`)
      .join("\n");

  /** Returns a lookup: the flag's value, else its environment variable's, as given (even ""). A bare `--name` means "true". */
  function read(argv: readonly string[], env: NodeJS.ProcessEnv): (f: Flag) => string | undefined {
    const given = new Map<string, string>();
    const known = new Set(Object.values(flags).map((f) => f.flag));
    for (const arg of argv) {
      const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
      if (!m || !known.has(m[1]!)) throw makeError(`unknown argument "${arg}"; ${component} accepts:\n${usage()}`);
      given.set(m[1]!, m[2] ?? "true");
    }
    return (f) => given.get(f.flag) ?? env[f.env];
  }

  /** `what` follows `--` in the message: the flag's name, and whatever else the component shows. */
  function bool(value: string, what: string): boolean {
    if (/^(true|1|yes)$/i.test(value)) return true;
    if (/^(false|0|no)$/i.test(value)) return false;
    throw makeError(`--${what}: "${value}" is not true or false`);
  }

  return { usage, read, bool };
}

/** "a, b,,c" → ["a", "b", "c"]. */
export const commaList = (s: string | undefined): string[] =>
  (s ?? "")
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
