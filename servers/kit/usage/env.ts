/**
 * Usage recording's configuration in a pod, from the environment. Unset TOOLFLEET_USAGE_URL
 * means no recording (a server run alone); set, every value must be valid, or the server refuses
 * to start with the variable's name. The token file (a projected service-account token for the
 * registry's usage audience) is read on every delivery, so rotation just works; the buffer
 * directory is a volume that outlives the container. The defaults are where the operator mounts
 * them.
 */
import { readFile } from "node:fs/promises";
import { z } from "zod";
import { USAGE_BUFFER_DIR, USAGE_TOKEN_FILE } from "../../../crds/usage.js";
import { USAGE_DEFAULTS, UsageRecorder } from "./recorder.js";

const Env = z.object({
  TOOLFLEET_USAGE_URL: z.url({ protocol: /^https?$/ }).optional(),
  TOOLFLEET_USAGE_DIR: z.string().min(1).default(USAGE_BUFFER_DIR),
  TOOLFLEET_USAGE_TOKEN_FILE: z.string().min(1).default(USAGE_TOKEN_FILE),
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
  const tokenFile = e.TOOLFLEET_USAGE_TOKEN_FILE;
  return new UsageRecorder({
    ...USAGE_DEFAULTS,
    registryUrl: e.TOOLFLEET_USAGE_URL,
    dir: e.TOOLFLEET_USAGE_DIR,
    maxRecords: e.TOOLFLEET_USAGE_MAX_RECORDS,
    token: async () => (await readFile(tokenFile, "utf8")).trim(),
  });
}
