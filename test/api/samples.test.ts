import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { McpServer } from "../../crds/index.js";
import { deleteNamespace, kubectl, testNamespace } from "../../local/cluster/harness.js";
import { inNamespace, sample, sampleFiles, toYaml } from "./fixtures.js";

let ns: string;
beforeAll(async () => {
  ns = await testNamespace("samples");
});
afterAll(async () => deleteNamespace(ns));

describe("the samples in crds/samples", () => {
  it("there is one for presto, spark and airflow, each a digest-pinned workload with no review filled in", () => {
    expect(sampleFiles()).toEqual(["airflow.yaml", "presto.yaml", "spark.yaml"]);
    for (const file of sampleFiles()) {
      const m = sample(file);
      const spec = m.spec as { workload?: { image: string }; review?: unknown; tools: { sensitive?: boolean }[] };
      expect(spec.workload?.image).toMatch(/@sha256:[a-f0-9]{64}$/);
      expect(spec.review).toBeUndefined();
    }
    expect(sampleFiles().some((f) => (sample(f).spec as { tools: { sensitive?: boolean }[] }).tools.some((t) => t.sensitive))).toBe(true);
  });

  it.each(sampleFiles())("%s applies with kubectl, and what is stored parses with the zod schema", async (file) => {
    const m = inNamespace(sample(file), ns);
    const r = await kubectl(["apply", "-f", "-"], { input: toYaml(m) });
    expect(r.stdout).toContain(`mcpserver.toolfleet.dev/${m.metadata.name} created`);
    const stored = JSON.parse((await kubectl(["get", "mcpserver", m.metadata.name, "-n", ns, "-o", "json"])).stdout) as unknown;
    const parsed = McpServer.parse(stored);
    // The API server applied the schema's defaults.
    expect(parsed.spec.tools.every((t) => typeof t.readOnly === "boolean" && typeof t.minutesSaved === "number")).toBe(true);
    expect(parsed.spec.workload?.path).toBe("/mcp");
  });

  it("kubectl get mcps shows the printer columns", async () => {
    for (const file of sampleFiles()) await kubectl(["apply", "-f", "-"], { input: toYaml(inNamespace(sample(file), ns)) });
    const r = await kubectl(["get", "mcps", "-n", ns]);
    const [header, ...rows] = r.stdout.trim().split("\n");
    expect(header?.split(/\s+/)).toEqual(["NAME", "PHASE", "URL", "REVIEWED", "READY", "AGE"]);
    expect(rows.map((row) => row.split(/\s+/)[0]).sort()).toEqual(["airflow", "presto", "spark"]);
    // The category lists McpServers too.
    expect((await kubectl(["get", "toolfleet", "-n", ns, "-o", "name"])).stdout.trim().split("\n")).toHaveLength(3);
  });

  it("kubectl explain shows the field descriptions", async () => {
    const tools = (await kubectl(["explain", "mcpserver.spec.tools"])).stdout.replace(/[ \t]*\n[ \t]*(?=[A-Za-z.:(])/g, " ");
    expect(tools).toContain("Every tool the server offers. Removing a tool applies at once. Reviewed: changing it needs every required review again.");
    expect(tools).toMatch(/sensitive\s+<boolean>/);
    expect(tools).toContain("A person must confirm every call");
    const minutes = (await kubectl(["explain", "mcps.spec.tools.minutesSaved"])).stdout;
    expect(minutes).toContain("minutes of work one successful call saves");
    const review = (await kubectl(["explain", "mcpserver.spec.review"])).stdout;
    expect(review).toContain("Decisions by review area (security, legal, genai, …)");
    expect(review).toMatch(/decision\s+<string> -required-\s+enum: Pending, Approved, Rejected/);
    expect(review).toContain("Not itself reviewed.");
    // Which fields a review covers, field by field.
    for (const [field, text] of [
      ["mcpserver.spec.workload.env", "Reviewed: changing it needs every required review again."],
      ["mcpserver.spec.workload.replicas", "Not reviewed: an operational setting that applies at once."],
      ["mcpserver.spec.workload.resources", "Not reviewed: an operational setting that applies at once."],
      ["mcpserver.spec.title", "Reviewed: changing it needs every required review again."],
    ] as const) {
      expect((await kubectl(["explain", field])).stdout.replace(/\s+/g, " ")).toContain(text);
    }
  });
});
