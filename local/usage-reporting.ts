/**
 * Usage recording for `make run`'s domain servers: each reports to the local registry with a
 * token of the ServiceAccount named after it in its namespace (created here, as a server's team
 * would for a remote server) and keeps its buffer under `.toolfleet/usage/<name>`, so the Impact
 * page shows real calls.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { USAGE_DEFAULTS, UsageRecorder } from "../servers/kit/usage/recorder.js";
import { kubectl } from "./cluster/kubectl.js";
import { stateDir } from "./cluster/paths.js";

/** Tokens live a day; a fresh one is asked for well before that. */
const TOKEN_SECONDS = 24 * 3600;
const RENEW_AFTER_MS = 12 * 3600_000;

/** Creates the servers' ServiceAccounts; returns a recorder for each server by name. */
export async function usageRecorders(options: { namespace: string; names: readonly string[]; registryUrl: string; audience: string }): Promise<(name: string) => UsageRecorder> {
  const dir = join(stateDir(), "usage");
  mkdirSync(dir, { recursive: true });
  const accounts = options.names.map((name) => stringify({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: options.namespace } }));
  await kubectl(["apply", "--server-side", "--field-manager=toolfleet-run", "-f", "-"], { input: accounts.join("---\n") });
  return (name) => {
    let cached: { token: string; at: number } | undefined;
    const token = async () => {
      if (!cached || Date.now() - cached.at > RENEW_AFTER_MS) {
        const out = await kubectl(["create", "token", name, `--namespace=${options.namespace}`, `--audience=${options.audience}`, `--duration=${TOKEN_SECONDS}s`]);
        cached = { token: out.stdout.trim(), at: Date.now() };
      }
      return cached.token;
    };
    return new UsageRecorder({ ...USAGE_DEFAULTS, registryUrl: options.registryUrl, dir: join(dir, name), token });
  };
}
