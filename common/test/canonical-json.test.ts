import { describe, expect, it } from "@jest/globals";
import { canonicalEqual, canonicalJson } from "../canonical-json.js";

describe("canonicalJson", () => {
  it("sorts object keys at every depth and keeps array order", () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1, { z: 1, y: 2 }], c: "x" } })).toBe('{"a":{"c":"x","d":[3,1,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson({ b: 1, a: 2 })).toBe(canonicalJson({ a: 2, b: 1 }));
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });

  it("sorts keys by UTF-16 code unit, as Array.prototype.sort does", () => {
    expect(canonicalJson({ b: 0, B: 0, "10": 0, "9": 0, é: 0, _: 0 })).toBe('{"10":0,"9":0,"B":0,"_":0,"b":0,"é":0}');
  });

  it("treats undefined as JSON does: a member is left out, an element is null, a whole value is null", () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson({ a: undefined, b: 1 })).toBe(canonicalJson({ b: 1 }));
    expect(canonicalJson([1, undefined, () => 0])).toBe("[1,null,null]");
    expect(canonicalJson(undefined)).toBe("null");
    expect(canonicalJson({ f: () => 0, s: Symbol("s") })).toBe("{}");
  });

  it("gives the text JSON.stringify gives once keys are sorted, for any JSON-shaped value", () => {
    const values: unknown[] = [
      null,
      true,
      0,
      -1.5e-7,
      Number.NaN,
      "quote \" and \\ and \n and \u2028",
      [],
      {},
      { when: new Date("2026-11-30T06:00:00Z"), tags: ["a", undefined], nested: { x: undefined, y: [{ k: null }] } },
    ];
    for (const value of values) {
      const roundTripped: unknown = JSON.parse(JSON.stringify(value ?? null));
      expect(canonicalJson(value)).toBe(canonicalJson(roundTripped));
      expect(JSON.parse(canonicalJson(value))).toEqual(roundTripped);
    }
  });

  it("writes a spec exactly as the approvals given so far were hashed", () => {
    // specHash is a SHA-256 of this text: a change in the canonical form would make every
    // existing approval stale, so the text is pinned.
    const spec = { title: "Presto", tools: [{ name: "run_query", readOnly: true, allowedGroups: ["data-platform"] }], access: { allowedGroups: ["ads-eng"], allowedServiceAccounts: [] }, remote: { url: "https://presto.example.com/mcp" } };
    expect(canonicalJson(spec)).toBe('{"access":{"allowedGroups":["ads-eng"],"allowedServiceAccounts":[]},"remote":{"url":"https://presto.example.com/mcp"},"title":"Presto","tools":[{"allowedGroups":["data-platform"],"name":"run_query","readOnly":true}]}');
  });
});

describe("canonicalEqual", () => {
  it("ignores key order and undefined members, and nothing else", () => {
    expect(canonicalEqual({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toBe(true);
    expect(canonicalEqual({ a: 1, gone: undefined }, { a: 1 })).toBe(true);
    expect(canonicalEqual({ a: 1 }, { a: "1" })).toBe(false);
    expect(canonicalEqual({ a: null }, {})).toBe(false);
    expect(canonicalEqual([1, 2], [2, 1])).toBe(false);
    expect(canonicalEqual(undefined, null)).toBe(true);
  });
});
