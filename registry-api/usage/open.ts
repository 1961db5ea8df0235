/**
 * Opens the usage store the configuration names (PostgreSQL or the SQLite file), migrated,
 * with a daily pruning of raw records past the retention period.
 */
import type { RegistryConfig } from "../config.js";
import { openPostgres } from "./postgres.js";
import { openSqlite } from "./sqlite.js";
import { UsageStore } from "./store.js";
import type { Logger } from "../../common/log.js";

const PRUNE_EVERY_MS = 6 * 3_600_000;

export async function openUsageStore(config: RegistryConfig["usageDatabase"], log: Logger): Promise<UsageStore> {
  const db = config.url ? await openPostgres(config.url) : openSqlite(config.file);
  const store = await UsageStore.open(db, { retentionDays: config.retentionDays });
  const prune = () =>
    store.prune().then(
      ({ removed }) => removed && log.info("pruned raw usage records past retention", { removed, retentionDays: config.retentionDays }),
      (err: unknown) => log.warn("pruning usage records failed", { error: String(err) }),
    );
  void prune();
  const timer = setInterval(prune, PRUNE_EVERY_MS);
  timer.unref();
  const close = store.close.bind(store);
  store.close = async () => {
    clearInterval(timer);
    await close();
  };
  log.info("usage store open", { database: config.url ? "postgresql" : `sqlite ${config.file}`, retentionDays: config.retentionDays });
  return store;
}
