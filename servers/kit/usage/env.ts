/**
 * Usage recording's configuration in a pod, from the environment. Unset TOOLFLEET_USAGE_URL
 * means no recording (a server run alone); set, the key and the token must be there, or the
 * server refuses to start with the variable's name.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { USAGE_DEFAULTS, UsageRecorder } from "./recorder.js";

const Env = z.object({
  TOOLFLEET_USAGE_URL: z.url({ protocol: /^https?$/ }).optional(),
  TOOLFLEET_USAGE_DIR: z.string().min(1).default("/var/lib/toolfleet/usage"),
  TOOLFLEET_USAGE_HASH_KEY_FILE: z.string().min(1).optional(),
  TOOLFLEET_USAGE_TOKEN_FILE: z.string().min(1).default("/var/run/secrets/toolfleet/usage/token"),
  TOOLFLEET_USAGE_MAX_RECORDS: z.coerce.number().int().min(1).max(100_000_000).default(USAGE_DEFAULTS.maxRecords),
});

export class UsageConfigError extends Error {
  override readonly name = "UsageConfigError";
}

export function usageFromEnv(env: NodeJS.ProcessEnv = process.env): UsageRecorder | undefined {
  const parsed = Env.safeParse(env);
  if (!parsed.success) throw new UsageConfigError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  const e = parsed.data;
  if (!e.TOOLFLEET_USAGE_URL) return undefined;
  if (!e.TOOLFLEET_USAGE_HASH_KEY_FILE) throw new UsageConfigError("TOOLFLEET_USAGE_HASH_KEY_FILE: required with TOOLFLEET_USAGE_URL (the fleet-wide key of the caller hash)");
  let hashKey: Buffer;
  try {
    hashKey = readFileSync(e.TOOLFLEET_USAGE_HASH_KEY_FILE);
  } catch (err) {
    throw new UsageConfigError(`TOOLFLEET_USAGE_HASH_KEY_FILE: cannot read ${e.TOOLFLEET_USAGE_HASH_KEY_FILE}: ${(err as Error).message}`);
  }
  if (hashKey.length < 16) throw new UsageConfigError("TOOLFLEET_USAGE_HASH_KEY_FILE: the key must be at least 16 bytes");
  const tokenFile = e.TOOLFLEET_USAGE_TOKEN_FILE;
  return new UsageRecorder({
    ...USAGE_DEFAULTS,
    registryUrl: e.TOOLFLEET_USAGE_URL,
    dir: e.TOOLFLEET_USAGE_DIR,
    maxRecords: e.TOOLFLEET_USAGE_MAX_RECORDS,
    hashKey,
    token: async () => (await readFile(tokenFile, "utf8")).trim(),
  });
}
