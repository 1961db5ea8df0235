import { describe, expect, it } from "@jest/globals";
import { StringPool } from "../string-pool.js";

/** A string built at run time, so the engine has not already made it one shared copy. */
const fresh = (s: string) => [...s].join("");

describe("StringPool", () => {
  it("gives back one copy for equal strings, and every value unchanged", () => {
    const pool = new StringPool();
    const trees = [0, 1, 2].map((i) => ({
      apiVersion: fresh("toolfleet.dev/v1alpha1"),
      metadata: { name: fresh(`s${i}`), uid: fresh(`uid-${i}`), namespace: fresh("team-a") },
      status: { conditions: [{ type: fresh("Reviewed"), message: fresh("waiting for the review of security") }], pending: [fresh("security"), fresh("legal")] },
      n: i,
    }));
    const copies = JSON.parse(JSON.stringify(trees)) as typeof trees;
    for (const t of trees) pool.internTree(t, (key) => key === "uid");
    expect(trees).toEqual(copies);
    // Object.is on strings compares values; the pool's effect is checked on its size instead:
    // the shared strings were kept once, the three names each, the uids never.
    expect(pool.size()).toBe(6 + 3);
  });

  it("stays within two generations of its capacity and keeps the strings still in use", () => {
    const pool = new StringPool(4);
    for (let i = 0; i < 100; i++) {
      pool.intern(`once-${i}`);
      pool.intern("common");
    }
    expect(pool.size()).toBeLessThanOrEqual(8);
    expect(pool.intern(fresh("common"))).toBe("common");
    expect(pool.size()).toBeLessThanOrEqual(8);
  });

  it("leaves long strings out of the pool", () => {
    const pool = new StringPool(10, 8);
    pool.intern("a string longer than eight");
    expect(pool.size()).toBe(0);
  });
});
