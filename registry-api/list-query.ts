/**
 * The list endpoint's query (`cursor`, `limit`, `search`, `updated_since`, `version`,
 * `include_deleted`), validated into one typed value; every bad value is a BadParameter naming it.
 */
import { BadParameter } from "./errors.js";

export interface ListQuery {
  /** Return entries whose registry name sorts after this one. */
  after?: string;
  limit: number;
  /** Lower-cased substring of name, title or description. */
  search?: string;
  /** Epoch ms: entries written at or after it. */
  updatedSince?: number;
  /** "latest" or an exact version. */
  version?: string;
}

export const DEFAULT_LIMIT = 30;
export const MAX_LIMIT = 100;

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** Cursors are opaque to clients: base64url of the last name returned, versioned. */
export function encodeCursor(lastName: string): string {
  return Buffer.from(JSON.stringify({ v: 1, after: lastName })).toString("base64url");
}

export function decodeCursor(cursor: string): string {
  if (!/^[A-Za-z0-9_-]{1,2000}$/.test(cursor)) throw new BadParameter("cursor", "not a cursor this registry returned (use metadata.nextCursor as is)");
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new BadParameter("cursor", "not a cursor this registry returned (use metadata.nextCursor as is)");
  }
  const after = (parsed as { v?: unknown; after?: unknown } | null)?.after;
  if ((parsed as { v?: unknown }).v !== 1 || typeof after !== "string" || after === "") {
    throw new BadParameter("cursor", "not a cursor this registry returned (use metadata.nextCursor as is)");
  }
  return after;
}

type RawQuery = Record<string, unknown>;

function single(query: RawQuery, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new BadParameter(name, "give it once, as a single value");
  return value;
}

export function parseBoolean(query: RawQuery, name: string): boolean {
  const v = single(query, name);
  if (v === undefined || v === "" || v === "false") return false;
  if (v === "true") return true;
  throw new BadParameter(name, `"${v}" is not true or false`);
}

export function parseListQuery(query: RawQuery): ListQuery {
  const out: ListQuery = { limit: DEFAULT_LIMIT };
  const cursor = single(query, "cursor");
  if (cursor !== undefined && cursor !== "") out.after = decodeCursor(cursor);

  const limit = single(query, "limit");
  if (limit !== undefined) {
    const n = /^\d{1,6}$/.test(limit) ? Number(limit) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) throw new BadParameter("limit", `"${limit}" must be an integer from 1 to ${MAX_LIMIT}`);
    out.limit = n;
  }

  const search = single(query, "search");
  if (search !== undefined && search !== "") {
    if (search.length > 200) throw new BadParameter("search", "at most 200 characters");
    out.search = search.toLowerCase();
  }

  const since = single(query, "updated_since");
  if (since !== undefined) {
    const ms = RFC3339.test(since) ? Date.parse(since) : NaN;
    if (Number.isNaN(ms)) throw new BadParameter("updated_since", `"${since}" is not an RFC 3339 date-time, e.g. 2025-08-07T13:15:04.280Z`);
    out.updatedSince = ms;
  }

  const version = single(query, "version");
  if (version !== undefined && version !== "") {
    if (version.length > 255) throw new BadParameter("version", "at most 255 characters");
    out.version = version;
  }
  // Accepted for compatibility; the registry keeps no tombstones, so there is nothing deleted to include.
  parseBoolean(query, "include_deleted");
  return out;
}
