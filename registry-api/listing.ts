/**
 * One page of the catalog for one viewer. Pages are cut by registry name (keyset pagination):
 * a cursor names the last entry returned, so servers added or removed meanwhile never shift a
 * page, and every server present throughout is returned exactly once.
 */
import type { CatalogEntry } from "./catalog.js";
import { encodeCursor, type ListQuery } from "./list-query.js";
import { canSee, type Viewer } from "./visibility.js";

export interface Page {
  entries: CatalogEntry[];
  nextCursor?: string;
}

/** The first index whose name sorts after `name`. */
function indexAfter(entries: readonly CatalogEntry[], name: string): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.registryName <= name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function matches(entry: CatalogEntry, query: Omit<ListQuery, "limit" | "after">): boolean {
  if (query.updatedSince !== undefined && entry.updatedAtMs < query.updatedSince) return false;
  if (query.version !== undefined && query.version !== "latest" && entry.spec.version !== query.version) return false;
  if (query.search !== undefined) {
    const s = query.search;
    if (!entry.registryName.toLowerCase().includes(s) && !entry.spec.title.toLowerCase().includes(s) && !entry.spec.description.toLowerCase().includes(s)) return false;
  }
  return true;
}

export function listPage(entries: readonly CatalogEntry[], viewer: Viewer, query: ListQuery): Page {
  const out: CatalogEntry[] = [];
  for (let i = query.after === undefined ? 0 : indexAfter(entries, query.after); i < entries.length; i++) {
    const entry = entries[i]!;
    if (!matches(entry, query) || !canSee(entry, viewer)) continue;
    if (out.length === query.limit) return { entries: out, nextCursor: encodeCursor(out[out.length - 1]!.registryName) };
    out.push(entry);
  }
  return { entries: out };
}
