/**
 * Reading a domain server's backend settings from its environment, as its Deployment sets
 * them: secrets either inline (`X`, from a secretKeyRef) or as a file (`X_FILE`, a mounted
 * Secret, read whenever the returned function is called, so a rotated secret can be picked up). Errors name the variable to fix.
 */
import { readFileSync } from "node:fs";

export class BackendConfigError extends Error {
  override readonly name = "BackendConfigError";
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

export function optionalString(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

export function requiredUrl(env: Env, ...names: [string, ...string[]]): string {
  const name = names.find((n) => optionalString(env, n));
  if (!name) throw new BackendConfigError(names[0], `required: the backend's base URL, e.g. http://host:port${names.length > 1 ? ` (or set ${names.slice(1).join(", ")})` : ""}`);
  const value = optionalString(env, name)!;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BackendConfigError(name, `"${value}" is not an absolute URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new BackendConfigError(name, `"${value}" must be http or https`);
  return value.replace(/\/+$/, "");
}

export function positiveInt(env: Env, name: string, fallback: number): number {
  const raw = optionalString(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new BackendConfigError(name, `"${raw}" is not a positive integer`);
  return n;
}

export function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = optionalString(env, name);
  if (raw === undefined) return fallback;
  const hit = allowed.find((a) => a.toLowerCase() === raw.toLowerCase());
  if (!hit) throw new BackendConfigError(name, `"${raw}" is not one of ${allowed.join(", ")}`);
  return hit;
}

/** `NAME` or the contents of the file `NAME_FILE` (trailing newline dropped); both set is a mistake. */
export function secret(env: Env, name: string): (() => string) | undefined {
  const inline = env[name];
  const file = optionalString(env, `${name}_FILE`);
  if (inline && file) throw new BackendConfigError(name, `set ${name} or ${name}_FILE, not both`);
  if (inline) return () => inline;
  if (!file) return undefined;
  const read = () => {
    try {
      return readFileSync(file, "utf8").replace(/\r?\n$/, "");
    } catch (err) {
      throw new BackendConfigError(`${name}_FILE`, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  read(); // refuse a missing file at start, not at the first call
  return read;
}
