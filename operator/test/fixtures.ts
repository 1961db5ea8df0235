/** A parsed sample spec and a cached-object shape, for unit tests of the reconciler's pure parts. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { McpServerSpec } from "../../crds/index.js";
import type { McpServerObject } from "../../mcpserver/type.js";

const samples = fileURLToPath(new URL("../../crds/samples/", import.meta.url));

export function sampleServer(file = "presto.yaml"): { object: McpServerObject; spec: McpServerSpec } {
  const raw = parse(readFileSync(samples + file, "utf8")) as McpServerObject;
  raw.metadata.uid = "0b1c2d3e-0000-4000-8000-000000000001";
  raw.metadata.generation = 3;
  return { object: raw, spec: McpServerSpec.parse(raw.spec) };
}
