/**
 * 1,000 servers in the real control plane: paging returns each exactly once, also while
 * servers are added, removed and changed between pages; updated_since returns exactly the
 * servers written since.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { deleteNamespace, testNamespace } from "../../local/cluster/harness.js";
import type { KubeClient } from "../../runtime/index.js";
import { PREFIX, call, deleteServer, inParallel, kube, putServer, setStatus, startTestRegistry, type ListBody, type TestRegistry } from "./fixtures.js";
import { waitFor } from "../../local/wait-for.js";

const N = 1000;
let ns: string;
let t: TestRegistry;
let client: KubeClient;
let reviewer: string;
const nameOf = (i: number) => `s-${String(i).padStart(4, "0")}`;
const registryNameOf = (name: string) => `${PREFIX}.${ns}/${name}`;

async function pageAll(limit: number, query = "", between?: (page: number) => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; ; page++) {
    const r = await call<ListBody>(t.registry.url, `/v0.1/servers?limit=${limit}${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, reviewer);
    expect(r.status).toBe(200);
    expect(r.body.metadata.count).toBe(r.body.servers.length);
    seen.push(...r.body.servers.map((s) => s.server.name));
    cursor = r.body.metadata.nextCursor;
    if (!cursor) return seen;
    await between?.(page);
  }
}

beforeAll(async () => {
  ns = await testNamespace("registry-pages");
  client = kube();
  const names = Array.from({ length: N }, (_, i) => nameOf(i));
  await inParallel(names, 24, (name) => putServer(client, ns, name, { groups: ["ads-eng"] }));
  t = await startTestRegistry(ns);
  reviewer = await t.issuer.userToken("sam", ["toolfleet:security-reviewers"]);
  await waitFor("every server in the registry's catalog", async () => t.registry.catalog.entries().length === N, 20_000, 25);
}, 300_000);
afterAll(async () => {
  await t?.stop();
  await deleteNamespace(ns);
});

describe("pagination over 1,000 servers", () => {
  it("returns each server exactly once, in pages of 100 and of 37", async () => {
    const expected = Array.from({ length: N }, (_, i) => registryNameOf(nameOf(i))).sort();
    for (const limit of [100, 37]) {
      const seen = await pageAll(limit);
      expect(seen).toEqual(expected);
    }
  });

  it("stays exact while servers are added, removed and changed between pages", async () => {
    const removed = new Set<string>();
    const added = new Set<string>();
    let round = 0;
    const seen = await pageAll(50, "", async (page) => {
      // Between pages: remove one server ahead and one behind, add two, republish three.
      const ahead = nameOf(Math.min(N - 1, (page + 1) * 50 + 7));
      const behind = nameOf(page * 50 + 3);
      const changes: Array<Promise<unknown>> = [];
      for (const name of [ahead, behind]) {
        if (!removed.has(name)) {
          removed.add(name);
          changes.push(deleteServer(client, ns, name));
        }
      }
      for (const extra of [`a-extra-${round}`, `z-extra-${round}`]) {
        added.add(extra);
        changes.push(putServer(client, ns, extra, { groups: ["ads-eng"] }));
      }
      const republished = [1, 20, 45].map((k) => nameOf(Math.min(N - 1, page * 50 + k)));
      for (const name of republished) changes.push(setStatus(client, ns, name, { published: page % 2 === 0 }));
      round++;
      await Promise.all(changes);
      // The next page is cut from the changed catalog: wait until the watch has delivered every change.
      const entry = (name: string) => t.registry.catalog.get(registryNameOf(name));
      await waitFor(
        "the registry's catalog to show this round's changes",
        () => [...added].every((n) => entry(n)) && [...removed].every((n) => !entry(n)) && republished.every((n) => entry(n)?.status.registry?.published === (page % 2 === 0)),
        10_000,
        25,
      );
    });
    expect(new Set(seen).size).toBe(seen.length); // never twice
    const steady = Array.from({ length: N }, (_, i) => nameOf(i)).filter((n) => !removed.has(n));
    const seenSet = new Set(seen);
    for (const name of steady) expect(seenSet.has(registryNameOf(name))).toBe(true); // present throughout: returned
    const known = new Set([...steady, ...added, ...removed].map(registryNameOf));
    for (const name of seen) expect(known.has(name)).toBe(true); // nothing invented
  }, 240_000);

  it("updated_since returns exactly the servers written since", async () => {
    // API server times have whole seconds: start on a fresh second, so every earlier write is before it.
    const since = Math.ceil((Date.now() + 1) / 1000) * 1000;
    await new Promise((r) => setTimeout(r, since - Date.now() + 50));
    const changed = [5, 77, 150, 333, 600, 901, 998].map(nameOf);
    await Promise.all(changed.map((name) => setStatus(client, ns, name, { published: true, phase: "Published" })));
    await putServer(client, ns, "m-new", { groups: ["ads-eng"] });
    const expected = [...changed, "m-new"].map(registryNameOf).sort();
    const iso = new Date(since).toISOString();
    await waitFor("every change since to be listed", async () => (await pageAll(100, `&updated_since=${iso}`)).length === expected.length, 5_000, 25);
    expect(await pageAll(100, `&updated_since=${iso}`)).toEqual(expected);
    expect(await pageAll(3, `&updated_since=${encodeURIComponent(iso.replace("Z", "+00:00"))}`)).toEqual(expected);
    for (const s of (await call<ListBody>(t.registry.url, `/v0.1/servers?limit=100&updated_since=${iso}`, reviewer)).body.servers) {
      expect(Date.parse(s._meta["io.modelcontextprotocol.registry/official"]!.updatedAt as string)).toBeGreaterThanOrEqual(since);
    }
    expect(await pageAll(100, `&updated_since=${new Date(Date.now() + 3600_000).toISOString()}`)).toEqual([]);
  }, 60_000);
});
