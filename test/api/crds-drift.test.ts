import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { renderedManifests } from "../../crds/manifests.js";
import { repoRoot } from "../../local/cluster/paths.js";

describe("generated API manifests", () => {
  it.each(Object.keys(renderedManifests()))("crds/%s is what the zod schema generates (run `make crds` after changing it)", (file) => {
    const onDisk = readFileSync(join(repoRoot(), "crds", file), "utf8");
    expect(onDisk).toBe(renderedManifests()[file]);
  });
});
