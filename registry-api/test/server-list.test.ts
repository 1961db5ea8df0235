import { describe, expect, it } from "@jest/globals";
import type { CatalogEntry } from "../catalog.js";
import type { ResponseRenderer } from "../server-response.js";
import { ServerListPages } from "../server-list.js";

/** Entries stand for object versions; the renderer here renders just their name and a marker. */
const entry = (name: string, marker = "v1") => ({ registryName: name, marker }) as unknown as CatalogEntry;
const renderer = { bytes: (e: CatalogEntry) => Buffer.from(JSON.stringify({ server: { name: e.registryName }, marker: (e as unknown as { marker: string }).marker })) } as ResponseRenderer;

describe("ServerList pages", () => {
  it("are the entries' JSON in order with the cursor and count", () => {
    const pages = new ServerListPages(renderer);
    const page = JSON.parse(pages.page([entry("a"), entry("b")], "Y3Vyc29y").toString());
    expect(page).toEqual({ servers: [{ server: { name: "a" }, marker: "v1" }, { server: { name: "b" }, marker: "v1" }], metadata: { nextCursor: "Y3Vyc29y", count: 2 } });
    expect(JSON.parse(pages.page([]).toString())).toEqual({ servers: [], metadata: { count: 0 } });
  });

  it("serve the same bytes again for the same object versions and cursor, and new ones when a server changed", () => {
    const pages = new ServerListPages(renderer);
    const a = entry("a");
    const b = entry("b");
    const first = pages.page([a, b]);
    expect(pages.page([a, b])).toBe(first);
    expect(pages.page([a, b], "next")).not.toBe(first); // another cursor, another page
    const changed = pages.page([a, entry("b", "v2")]); // b's next version: a new entry object
    expect(changed).not.toBe(first);
    expect(JSON.parse(changed.toString()).servers[1].marker).toBe("v2");
    expect(pages.page([b, a])).not.toBe(first); // another order is another page
  });

  it("stay within their byte budget, dropping the least recently used first; a page above it is served, not kept", () => {
    const one = pages1();
    const budget = one * 2 + 40; // two pages and their keys
    const pages = new ServerListPages(renderer, budget);
    const [a, b, c] = [entry("a"), entry("b"), entry("c")];
    const pa = pages.page([a]);
    const pb = pages.page([b]);
    expect(pages.page([a])).toBe(pa); // a is now the most recent
    pages.page([c]); // over budget: b goes
    expect(pages.size.pages).toBe(2);
    expect(pages.size.bytes).toBeLessThanOrEqual(budget);
    expect(pages.page([a])).toBe(pa);
    expect(pages.page([b])).not.toBe(pb);
    const small = new ServerListPages(renderer, 10);
    expect(JSON.parse(small.page([a]).toString()).servers).toHaveLength(1);
    expect(small.size).toEqual({ pages: 0, bytes: 0 });
  });
});

function pages1(): number {
  return new ServerListPages(renderer).page([entry("a")]).length;
}
