/**
 * A watched cache of McpServers for other components (the registry API): the same informer the
 * operator runs, with its restarts, relists and resync, started and synced.
 *
 *   const servers = await watchMcpServers(kubeConfig, { namespaces: [] });
 *   servers.list(); servers.get(ns, name); servers.onChange((type, obj) => …); await servers.stop();
 */
import { Informer, KubeClient, type ConnectionConfig, type InformerOptions } from "../runtime/index.js";
import { McpServerType, type McpServerObject } from "./type.js";
import type { Logger } from "../common/log.js";

export interface McpServerCacheOptions<T extends McpServerObject = McpServerObject> {
  namespaces?: readonly string[];
  /** Shapes each object before it is cached (default: drop managedFields). */
  transform?: (obj: T) => T;
  userAgent?: string;
  resyncPeriodMs?: number;
  log?: Logger;
  qps?: number;
  burst?: number;
  /** Give up waiting for the first list after this long. */
  syncTimeoutMs?: number;
}

export async function watchMcpServers<T extends McpServerObject = McpServerObject>(
  kc: ConnectionConfig,
  options: McpServerCacheOptions<T> = {},
): Promise<Informer<T>> {
  const client = new KubeClient(kc, { qps: options.qps ?? 20, burst: options.burst ?? 40, userAgent: options.userAgent ?? "toolfleet-mcpserver-cache" });
  const informerOptions: InformerOptions<T> = {
    namespaces: options.namespaces,
    resyncPeriodMs: options.resyncPeriodMs ?? 0,
    ...(options.transform ? { transform: options.transform } : {}),
    ...(options.log ? { log: options.log } : {}),
  };
  const informer = new Informer<T>(client, McpServerType, informerOptions);
  informer.start();
  try {
    await informer.waitForSync(options.syncTimeoutMs ?? 60_000);
  } catch (err) {
    await informer.stop();
    throw err;
  }
  return informer;
}
