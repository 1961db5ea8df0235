/** Sample manifests for API tests, moved into a test's own namespace. */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { repoRoot } from "../../local/cluster/paths.js";

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  spec: Record<string, unknown>;
}

export const sampleFiles = () => readdirSync(join(repoRoot(), "crds", "samples")).filter((f) => f.endsWith(".yaml")).sort();

export function sample(file: string): Manifest {
  return parse(readFileSync(join(repoRoot(), "crds", "samples", file), "utf8")) as Manifest;
}

export function inNamespace(m: Manifest, namespace: string, name = m.metadata.name): Manifest {
  return { ...m, metadata: { ...m.metadata, name, namespace } };
}

export const toYaml = (m: unknown) => stringify(m);

/** A deep copy that a test may change freely. */
export const clone = <T>(v: T): T => structuredClone(v);
