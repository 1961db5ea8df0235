/**
 * An entry as the official registry API shapes it (ServerResponse: `server` is server.json,
 * `_meta` the registry's block), with Toolfleet's fields under `_meta["dev.toolfleet/server"]`.
 * The same for every caller, so each entry's JSON is rendered once per version of the object.
 */
import type { CatalogEntry } from "./catalog.js";
import { reviewPosture, type AreaPosture } from "./visibility.js";

export const OFFICIAL_META = "io.modelcontextprotocol.registry/official";
export const TOOLFLEET_META = "dev.toolfleet/server";
export const SERVER_SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";

export interface ToolfleetServerMeta {
  namespace: string;
  name: string;
  owner: { team: string; contact: string };
  access: { allowedGroups: string[]; allowedServiceAccounts: string[] };
  tools: Array<{ name: string; description?: string; readOnly: boolean; sensitive: boolean; minutesSaved: number; allowedGroups?: string[] }>;
  review: { approved: boolean; areas: AreaPosture[] };
  published: boolean;
  /** Why an unpublished server is not live yet (only reviewers and admins see one). */
  statusMessage?: string;
  phase?: string;
  readyReplicas?: number;
  serverInfo?: { name: string; version: string; protocolVersion: string };
  conditions: Array<{ type: string; status: string; reason: string; message: string; lastTransitionTime: string }>;
}

export interface ServerResponse {
  server: {
    $schema: string;
    name: string;
    title: string;
    description: string;
    version: string;
    remotes: Array<{ type: "streamable-http"; url: string }>;
  };
  _meta: {
    /** The official block, with no property the official API does not define (it allows none). */
    [OFFICIAL_META]: { status?: "active"; publishedAt?: string; updatedAt: string; isLatest: boolean };
    [TOOLFLEET_META]: ToolfleetServerMeta;
  };
}

export function toolfleetMeta(entry: CatalogEntry, areas: readonly string[]): ToolfleetServerMeta {
  const { spec, status } = entry;
  return {
    namespace: entry.namespace,
    name: entry.name,
    owner: { team: spec.owner.team, contact: spec.owner.contact },
    access: { allowedGroups: [...spec.access.allowedGroups], allowedServiceAccounts: [...spec.access.allowedServiceAccounts] },
    tools: spec.tools.map((t) => ({
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      readOnly: t.readOnly,
      sensitive: t.sensitive,
      minutesSaved: t.minutesSaved,
      ...(t.allowedGroups ? { allowedGroups: [...t.allowedGroups] } : {}),
    })),
    review: { approved: status.review?.approved ?? false, areas: reviewPosture(entry, areas) },
    published: entry.published,
    ...(entry.published ? {} : { statusMessage: `not published${status.phase ? ` (${status.phase})` : ""}: only reviewers and admins see it` }),
    ...(status.phase ? { phase: status.phase } : {}),
    ...(status.readyReplicas !== undefined ? { readyReplicas: status.readyReplicas } : {}),
    ...(status.serverInfo ? { serverInfo: status.serverInfo } : {}),
    conditions: (status.conditions ?? []).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message, lastTransitionTime: c.lastTransitionTime })),
  };
}

export function toServerResponse(entry: CatalogEntry, areas: readonly string[]): ServerResponse {
  const publishedAt = entry.status.registry?.publishedAt;
  return {
    server: {
      $schema: SERVER_SCHEMA,
      name: entry.registryName,
      title: entry.spec.title,
      description: entry.spec.description,
      version: entry.spec.version,
      remotes: [{ type: "streamable-http", url: entry.url }],
    },
    _meta: {
      // The official status enum (active, deprecated, deleted) has no "waiting for review": an
      // unpublished server, which only reviewers and admins see, has no official status and no
      // publication time at all; Toolfleet's block says published: false and why.
      [OFFICIAL_META]: entry.published
        ? { status: "active", ...(publishedAt ? { publishedAt } : {}), updatedAt: entry.updatedAt, isLatest: true }
        : { updatedAt: entry.updatedAt, isLatest: true },
      [TOOLFLEET_META]: toolfleetMeta(entry, areas),
    },
  };
}

/**
 * JSON of each entry, kept while the entry object lives (a new object version renders again),
 * as UTF-8 bytes: a page is then stitched from ready bytes (server-list.ts), not 200 kB of string encoding.
 */
export class ResponseRenderer {
  private readonly cache = new WeakMap<CatalogEntry, Buffer>();
  constructor(private readonly areas: readonly string[]) {}

  bytes(entry: CatalogEntry): Buffer {
    let bytes = this.cache.get(entry);
    if (bytes === undefined) {
      bytes = Buffer.from(JSON.stringify(toServerResponse(entry, this.areas)));
      this.cache.set(entry, bytes);
    }
    return bytes;
  }
}
