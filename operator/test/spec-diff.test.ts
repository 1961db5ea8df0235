import { describe, expect, it } from "@jest/globals";
import type { McpServerSpec } from "../../crds/index.js";
import { specChanges } from "../spec-diff.js";
import { servedSpec } from "../spec-hash.js";
import { sampleServer } from "./fixtures.js";

const { spec } = sampleServer();
const approved = servedSpec(spec);

describe("the reviewers' diff", () => {
  it("names each changed reviewed field, old and new", () => {
    const pending: McpServerSpec = {
      ...spec,
      title: "Presto 2",
      workload: { ...spec.workload!, replicas: 7, env: [...(spec.workload!.env ?? []), { name: "NODE_OPTIONS", value: "--inspect" }] },
      tools: spec.tools.map((t) => (t.name === "run_query" ? { ...t, description: "Run any SQL" } : t)),
    };
    expect(specChanges(approved, pending)).toEqual([
      { path: "spec.title", old: '"Presto"', new: '"Presto 2"' },
      { path: "spec.tools[name=run_query].description", old: JSON.stringify("Run a read-only SQL query (SELECT, SHOW, DESCRIBE, EXPLAIN, WITH)"), new: '"Run any SQL"' },
      { path: "spec.workload.env[name=NODE_OPTIONS]", new: '{"name":"NODE_OPTIONS","value":"--inspect"}' },
    ]);
  });

  it("is empty for reordered sets and operational knobs, and says when only env's order changed", () => {
    expect(specChanges(approved, { ...spec, tools: [...spec.tools].reverse(), workload: { ...spec.workload!, replicas: 1 } })).toEqual([]);
    const reordered = { ...spec, workload: { ...spec.workload!, env: [...spec.workload!.env!].reverse() } };
    expect(specChanges(approved, reordered).map((c) => c.path)).toEqual(["spec.workload.env"]);
  });
});
