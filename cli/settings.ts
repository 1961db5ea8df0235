/**
 * What the CLI keeps between runs, in the user's config folder
 * (`$TOOLFLEET_CONFIG_DIR`, else `$XDG_CONFIG_HOME/toolfleet`, else `~/.config/toolfleet`):
 * `session.json` with the registry, the provider and the tokens. The folder is 0700 and the
 * file 0600, written whole and renamed into place, so no other user reads a token and no
 * reader sees half a file.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { CliError, EXIT } from "./errors.js";

export const Session = z.object({
  registry: z.url(),
  issuer: z.string().min(1),
  clientId: z.string().min(1),
  tokenEndpoint: z.url(),
  endSessionEndpoint: z.url().optional(),
  accessToken: z.string().min(1),
  /** Seconds since the epoch. */
  expiresAt: z.number().int(),
  refreshToken: z.string().min(1).optional(),
  idToken: z.string().min(1).optional(),
  /** Who signed in, for `toolfleet whoami` and messages; the registry decides from the token. */
  user: z.string(),
  groups: z.array(z.string()),
});
export type Session = z.output<typeof Session>;

export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TOOLFLEET_CONFIG_DIR) return env.TOOLFLEET_CONFIG_DIR;
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "toolfleet");
}

export const sessionFile = (env: NodeJS.ProcessEnv = process.env) => join(configDir(env), "session.json");

export function readSession(env: NodeJS.ProcessEnv = process.env): Session | undefined {
  const file = sessionFile(env);
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    throw new CliError(`${file} is not valid JSON: run toolfleet logout, then toolfleet login`, EXIT.notSignedIn);
  }
  const parsed = Session.safeParse(raw);
  if (!parsed.success) throw new CliError(`${file} is not a session this CLI wrote: run toolfleet logout, then toolfleet login`, EXIT.notSignedIn);
  return parsed.data;
}

export function writeSession(session: Session, env: NodeJS.ProcessEnv = process.env): string {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const file = sessionFile(env);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(session, null, 2) + "\n", { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return file;
}

export function removeSession(env: NodeJS.ProcessEnv = process.env): boolean {
  const file = sessionFile(env);
  if (!existsSync(file)) return false;
  rmSync(file);
  return true;
}
