/**
 * Sets of people as the roll-ups store them: the smaller of a list and a bitmap, grown in place,
 * and unions that count each person once.
 */
import { describe, expect, it } from "@jest/globals";
import { PeopleUnion, addPeople, decodePeople, encodePeople } from "../people-set.js";
import { seededRandom } from "./fleet.js";

describe("people sets", () => {
  it("keep a few people as a list and many as a bitmap, and give back exactly who is in them", () => {
    const few = encodePeople([9000, 3, 3, 17]);
    expect(few[0]).toBe(0);
    expect(few.length).toBe(1 + 3 * 4);
    expect(decodePeople(few)).toEqual([3, 17, 9000]);
    const many = Array.from({ length: 500 }, (_, i) => i * 3);
    const dense = encodePeople(many);
    expect(dense[0]).toBe(1);
    expect(dense.length).toBe(1 + ((1497 >> 3) + 1));
    expect(decodePeople(dense)).toEqual(many);
    expect(decodePeople(encodePeople([]))).toEqual([]);
  });

  it("grow by new people whichever form they are in", () => {
    const rnd = seededRandom(5);
    let stored: Uint8Array | undefined;
    const all = new Set<number>();
    for (let round = 0; round < 40; round++) {
      const ids = Array.from({ length: 1 + Math.floor(rnd() * 30) }, () => Math.floor(rnd() * 2000));
      for (const id of ids) all.add(id);
      stored = addPeople(stored, ids);
      expect(decodePeople(stored)).toEqual([...all].sort((a, b) => a - b));
    }
    expect(stored![0]).toBe(1);
  });

  it("count the union of any sets once per person", () => {
    const union = new PeopleUnion();
    union.add(encodePeople([1, 2, 3]));
    union.add(encodePeople(Array.from({ length: 300 }, (_, i) => i)));
    union.add(encodePeople([299, 70_000]));
    union.addOne(70_000);
    expect(union.size).toBe(301);
  });
});
