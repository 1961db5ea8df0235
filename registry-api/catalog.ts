/**
 * The catalog: every McpServer the cache holds, parsed once per version of the object and
 * kept sorted by registry name, which is what cursors point into. Rebuilt lazily after a
 * change, so a burst of watch events costs one sort, not one per event.
 *
 * What an entry serves comes from status.served only: the approved revision (narrowed by any
 * change that only narrows access), which the operator writes and namespace editors cannot. The
 * current spec, which anyone who may edit the McpServer can change, is never served: it is only
 * the review state and the pending change that reviewers see, and the content of a server that
 * was never approved (never published). With no operator running, nothing unapproved appears.
 */
import { McpServerSpec, ServedSpec, type McpServerStatus } from "../crds/index.js";
import { serverPolicy } from "../policy/index.js";
import { registryName, serverUrl } from "../mcpserver/index.js";
import type { ServerPolicy } from "../policy/index.js";
import type { CachedServer } from "./server-cache.js";
import { silentLogger, type Logger } from "../common/log.js";

export interface CatalogEntry {
  /** `namespace/name` of the McpServer. */
  key: string;
  namespace: string;
  name: string;
  /** `<prefix>.<namespace>/<name>`. */
  registryName: string;
  /**
   * What the registry shows: the served (approved) spec with the current reviews; for a server
   * never approved (so never published, seen by reviewers only), the current spec.
   */
  spec: McpServerSpec;
  /** The approved revision the entry comes from; undefined if nothing was ever approved. */
  servedRevision?: string;
  /** A change awaiting review: the reviewed fields it alters, old and new value (status.pendingChange). */
  pending?: NonNullable<McpServerStatus["pendingChange"]>;
  status: McpServerStatus;
  published: boolean;
  url: string;
  /** The policy the server enforces at call time, built by the operator's own function. */
  policy: ServerPolicy;
  /** Epoch ms of the last write to the object, for updated_since. */
  updatedAtMs: number;
  updatedAt: string;
  createdAt: string;
}

/** What the catalog reads: the informer, or anything shaped like it (tests, benchmarks). */
export interface ServerSource {
  list(): CachedServer[];
  onChange(listener: () => void): () => void;
}

export interface CatalogOptions {
  registryPrefix: string;
  clusterDomain: string;
  verifierServiceAccount: string;
  log?: Logger;
}

export class Catalog {
  private sorted: CatalogEntry[] = [];
  private readonly byName = new Map<string, CatalogEntry>();
  private dirty = true;
  /**
   * Parsed entries by `namespace/name`, with the version they were parsed from: the object's
   * resourceVersion, which fixes its content (or the object itself, when it has none). An object
   * the informer replaced by the same version (a relist) is not parsed again, and its entry, with
   * its rendered JSON and the pages that hold it, stays.
   */
  private parsed = new Map<string, { version: string | CachedServer; entry: CatalogEntry | null }>();
  private readonly log: Logger;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly source: ServerSource,
    private readonly options: CatalogOptions,
  ) {
    this.log = options.log ?? silentLogger;
    this.unsubscribe = source.onChange(() => {
      this.dirty = true;
    });
  }

  close(): void {
    this.unsubscribe();
  }

  /** Every entry, sorted by registry name. */
  entries(): readonly CatalogEntry[] {
    this.refresh();
    return this.sorted;
  }

  get(name: string): CatalogEntry | undefined {
    this.refresh();
    return this.byName.get(name);
  }

  private refresh(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const next: CatalogEntry[] = [];
    const parsed: typeof this.parsed = new Map();
    for (const obj of this.source.list()) {
      const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
      const version = obj.metadata.resourceVersion ?? obj;
      let known = this.parsed.get(key);
      if (known?.version !== version) known = { version, entry: this.toEntry(obj) };
      parsed.set(key, known);
      if (known.entry) next.push(known.entry);
    }
    this.parsed = parsed;
    next.sort((a, b) => (a.registryName < b.registryName ? -1 : a.registryName > b.registryName ? 1 : 0));
    this.sorted = next;
    this.byName.clear();
    for (const e of next) this.byName.set(e.registryName, e);
  }

  private toEntry(obj: CachedServer): CatalogEntry | null {
    const status = obj.status ?? {};
    const current = McpServerSpec.safeParse(obj.spec);
    const served = status.served ? ServedSpec.safeParse(status.served.spec) : undefined;
    if (served && !served.success) {
      this.log.warn("McpServer status.served does not parse; not served", { namespace: obj.metadata.namespace, name: obj.metadata.name, error: served.error.message });
      return null;
    }
    if (!served && !current.success) {
      // The API server validated it; a spec from an older schema is left out, not served half-read.
      this.log.warn("McpServer spec does not parse; not served", { namespace: obj.metadata.namespace, name: obj.metadata.name, error: current.error.message });
      return null;
    }
    const review = current.success ? current.data.review : undefined;
    const spec: McpServerSpec = served?.success ? { ...served.data, ...(review ? { review } : {}) } : current.data!;
    const { namespace, name } = obj.metadata;
    const policy = serverPolicy(obj.metadata, spec, {
      registryPrefix: this.options.registryPrefix,
      verifierServiceAccount: this.options.verifierServiceAccount,
    });
    return {
      key: `${namespace}/${name}`,
      namespace,
      name,
      registryName: registryName(this.options.registryPrefix, namespace, name),
      spec,
      ...(status.served ? { servedRevision: status.served.revision } : {}),
      ...(status.pendingChange ? { pending: status.pendingChange } : {}),
      status,
      // Published needs approved content to serve: a status without it is never served.
      published: status.registry?.published === true && served?.success === true,
      url: status.url ?? serverUrl(obj, spec, this.options.clusterDomain),
      policy,
      updatedAtMs: Date.parse(obj.lastWriteAt),
      updatedAt: obj.lastWriteAt,
      createdAt: typeof obj.metadata.creationTimestamp === "string" ? obj.metadata.creationTimestamp : obj.lastWriteAt,
    };
  }
}
