/**
 * The kit's test server (servers/kit/test/fixture.ts) with usage recording, as its own
 * process, so a suite can kill it with records in its buffer and start it again on the same
 * buffer: `node dist/servers/kit/usage/test/kit-child.js`, configured by one JSON variable.
 */
import { readFile } from "node:fs/promises";
import { nullAuditSink } from "../../audit.js";
import { presto } from "../../test/fixture.js";
import { USAGE_DEFAULTS, UsageRecorder } from "../recorder.js";
import { createLogger } from "../../../../common/log.js";

export interface KitChildConfig {
  port: number;
  policyFile: string;
  publicUrl: string;
  users: { issuer: string; jwksUrl: string };
  serviceAccounts: { issuer: string; jwksUrl: string };
  usage: { registryUrl: string; dir: string; tokenFile: string; maxRecords?: number; backoffMaxMs?: number };
}

const config = JSON.parse(process.env.TOOLFLEET_TEST_KIT ?? "") as KitChildConfig;
const usage = new UsageRecorder({
  ...USAGE_DEFAULTS,
  backoffMaxMs: config.usage.backoffMaxMs ?? 2000,
  registryUrl: config.usage.registryUrl,
  dir: config.usage.dir,
  ...(config.usage.maxRecords ? { maxRecords: config.usage.maxRecords } : {}),
  token: async () => (await readFile(config.usage.tokenFile, "utf8")).trim(),
});
const running = await presto.start({
  policyFile: config.policyFile,
  publicUrl: config.publicUrl,
  port: config.port,
  host: "127.0.0.1",
  auth: { users: { issuer: config.users.issuer, keys: { jwksUrl: config.users.jwksUrl } }, serviceAccounts: { issuer: config.serviceAccounts.issuer, keys: { jwksUrl: config.serviceAccounts.jwksUrl } } },
  audit: nullAuditSink,
  logger: createLogger({}, { sink: (line) => void process.stderr.write(`${line}\n`) }),
  processMetrics: false,
  usage,
});
process.stdout.write(`listening ${running.port}\n`);
process.on("SIGTERM", () => void running.stop().then(() => process.exit(0)));
