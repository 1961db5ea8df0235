/**
 * ServerList pages (`{"servers":[…],"metadata":{…}}`) as bytes, stitched from the entries'
 * pre-rendered JSON and kept, least recently used first out, within a byte budget.
 *
 * A page is kept under the exact object versions it holds (each CatalogEntry is one version of
 * one McpServer; a change makes a new entry) and its cursor, so a kept page is by construction
 * the page that would be built again: which entries a caller may see is decided before, per
 * request, and a changed server can never be served from an older page. Many callers reading
 * the same pages between two changes get them without a copy or an allocation.
 */
import type { CatalogEntry } from "./catalog.js";
import type { ResponseRenderer } from "./server-response.js";

const LIST_START = Buffer.from('{"servers":[');
const COMMA = Buffer.from(",");

export class ServerListPages {
  private readonly ids = new WeakMap<CatalogEntry, number>();
  private nextId = 1;
  private readonly pages = new Map<string, Buffer>();
  private bytes = 0;

  constructor(
    private readonly renderer: ResponseRenderer,
    /** Bytes of kept pages (and their keys) at most. */
    private readonly budget = 32 * 1024 * 1024,
  ) {}

  page(entries: readonly CatalogEntry[], nextCursor?: string): Buffer {
    const key = `${nextCursor ?? ""}|${entries.map((e) => this.idOf(e)).join(",")}`;
    const kept = this.pages.get(key);
    if (kept) {
      // Most recently used goes last.
      this.pages.delete(key);
      this.pages.set(key, kept);
      return kept;
    }
    const page = this.build(entries, nextCursor);
    if (page.length + key.length <= this.budget) {
      this.pages.set(key, page);
      this.bytes += page.length + key.length;
      for (const [oldest, bytes] of this.pages) {
        if (this.bytes <= this.budget) break;
        this.pages.delete(oldest);
        this.bytes -= bytes.length + oldest.length;
      }
    }
    return page;
  }

  /** Pages kept now, and their size. */
  get size(): { pages: number; bytes: number } {
    return { pages: this.pages.size, bytes: this.bytes };
  }

  private idOf(entry: CatalogEntry): number {
    let id = this.ids.get(entry);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(entry, id);
    }
    return id;
  }

  private build(entries: readonly CatalogEntry[], nextCursor?: string): Buffer {
    const metadata = JSON.stringify(nextCursor ? { nextCursor, count: entries.length } : { count: entries.length });
    const parts: Buffer[] = [LIST_START];
    entries.forEach((e, i) => {
      if (i > 0) parts.push(COMMA);
      parts.push(this.renderer.bytes(e));
    });
    parts.push(Buffer.from(`],"metadata":${metadata}}`));
    return Buffer.concat(parts);
  }
}
