/** The CLI's pure parts: the argument parser, the reviewed-spec diff, and the client-config merge. */
import { describe, expect, it } from "@jest/globals";
import { clientConfigFile } from "../../registry-api/ui/client-configs.js";
import { mergedConfig } from "../client-config-file.js";
import { parse } from "../command-line.js";
import { COMMANDS } from "../commands.js";
import { CliError, EXIT } from "../errors.js";
import { diffSpecs, renderDiff } from "../spec-diff.js";

describe("the argument parser", () => {
  it("takes flags anywhere, with = or a separate value, and booleans without one", () => {
    const p = parse(COMMANDS, ["connect", "--client=cursor", "presto", "--write", "-o", "json"]);
    expect(p).toMatchObject({ kind: "run", command: { path: ["connect"] }, invocation: { args: { server: "presto" }, flags: { client: "cursor", write: true, output: "json" } } });
    expect(parse(COMMANDS, ["review", "approve", "ns/x", "--area", "security"])).toMatchObject({ invocation: { args: { server: "ns/x" }, flags: { area: "security" } } });
  });
  it("refuses a missing argument, an extra one, and a flag without its value", () => {
    const code = (argv: string[]) => {
      try {
        parse(COMMANDS, argv);
        return "parsed";
      } catch (err) {
        return (err as CliError).exitCode;
      }
    };
    expect(code(["server"])).toBe(EXIT.usage);
    expect(code(["server", "a", "b"])).toBe(EXIT.usage);
    expect(code(["review", "approve", "ns/x", "--area"])).toBe(EXIT.usage);
    expect(code(["servers", "--write"])).toBe(EXIT.usage);
  });
});

describe("the reviewed-spec diff", () => {
  const spec = {
    title: "Presto",
    remote: { url: "https://a/mcp" },
    access: { allowedGroups: ["ads-eng"] },
    tools: [
      { name: "run_query", readOnly: true },
      { name: "kill_query", sensitive: true },
    ],
    review: { security: { decision: "Approved" } },
  };
  it("shows every reviewed field as new when nothing was approved before, and never the reviews", () => {
    const lines = diffSpecs(undefined, spec);
    expect(lines.every((l) => l.op === "+")).toBe(true);
    expect(lines.map((l) => l.path)).toContain("tools[kill_query].sensitive");
    expect(lines.some((l) => l.path.startsWith("review"))).toBe(false);
  });
  it("keys tools by name, so a reorder is no change and a changed tool shows under its name", () => {
    const reordered = { ...spec, tools: [...spec.tools].reverse() };
    expect(diffSpecs(spec, reordered)).toEqual([]);
    const changed = { ...spec, tools: [{ name: "run_query", readOnly: false }, spec.tools[1]!], workload: undefined };
    expect(renderDiff(diffSpecs(spec, changed))).toBe("~ tools[run_query].readOnly: true → false");
  });
  it("ignores replicas and resources, which a review does not vouch for", () => {
    const a = { ...spec, remote: undefined, workload: { image: "x@sha256:1", replicas: 1, resources: { limits: { cpu: "1" } } } };
    const b = { ...a, workload: { image: "x@sha256:1", replicas: 5 } };
    expect(diffSpecs(a, b)).toEqual([]);
    expect(renderDiff(diffSpecs(a, { ...a, workload: { image: "x@sha256:2" } }))).toBe('~ workload.image: "x@sha256:1" → "x@sha256:2"');
  });
});

describe("merging a client configuration", () => {
  const config = clientConfigFile("vscode", "presto", "https://p/mcp");
  it("adds the server and its token prompt once, keeping everything else", () => {
    const existing = JSON.stringify({ servers: { other: { url: "o" } }, inputs: [{ id: "mine", type: "promptString" }, { id: "toolfleet-token", old: true }], extra: 1 });
    const { content, replaced } = mergedConfig(existing, "f", config, "presto");
    expect(replaced).toBe(false);
    expect(content).toEqual({
      servers: { other: { url: "o" }, presto: config.entry },
      inputs: [{ id: "mine", type: "promptString" }, ...config.inputs!],
      extra: 1,
    });
  });
  it("refuses what it cannot merge into", () => {
    for (const bad of ["{", "[]", '{"servers": 3}', '{"inputs": {}}']) {
      expect(() => mergedConfig(bad, "f", config, "presto")).toThrow(CliError);
    }
  });
});
