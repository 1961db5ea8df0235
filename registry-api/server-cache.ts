/**
 * The registry's view of the cluster: the operator's McpServer cache (its runtime's informer, so
 * restarts, relists and lost watches are handled once for everyone). No second database: every
 * replica builds the same cache from the API server and so gives the same answers.
 */
import { watchMcpServers, type McpServerObject } from "../mcpserver/index.js";
import type { ConnectionConfig, Informer } from "../runtime/index.js";
import type { Logger } from "../common/log.js";

/** An McpServer as cached here, with when the API server last recorded a write to it. */
export interface CachedServer extends McpServerObject {
  /** RFC 3339, seconds: the newest managedFields time (spec, metadata or status write). */
  lastWriteAt: string;
}

interface ManagedFieldsEntry {
  time?: string;
}

/**
 * The API server stamps every write in managedFields (per manager, seconds). Its newest time is
 * the one "updated at" every replica agrees on; the informer's own clock would differ between
 * replicas and restarts. Taken before managedFields, the bulk of an object, is dropped.
 */
export function lastWriteOf(obj: McpServerObject): string {
  let newest = typeof obj.metadata.creationTimestamp === "string" ? obj.metadata.creationTimestamp : "";
  for (const entry of (obj.metadata.managedFields ?? []) as ManagedFieldsEntry[]) {
    if (typeof entry.time === "string" && Date.parse(entry.time) > (Date.parse(newest) || 0)) newest = entry.time;
  }
  return newest ? new Date(Date.parse(newest)).toISOString() : new Date(0).toISOString();
}

function toCached(obj: CachedServer): CachedServer {
  const lastWriteAt = lastWriteOf(obj);
  delete obj.metadata.managedFields;
  return Object.assign(obj, { lastWriteAt });
}

export interface ServerCacheOptions {
  namespaces?: readonly string[];
  log?: Logger;
  syncTimeoutMs?: number;
}

export type ServerCache = Informer<CachedServer>;

/** Starts watching McpServers and resolves once the first list is in. */
export function watchServers(kc: ConnectionConfig, options: ServerCacheOptions = {}): Promise<ServerCache> {
  return watchMcpServers<CachedServer>(kc, { ...options, transform: toCached, userAgent: "toolfleet-registry" });
}
