/** `make crds`: writes the CRD and the review-gate policy as YAML next to this file. */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { renderedManifests } from "./manifests.js";

const here = fileURLToPath(new URL(".", import.meta.url)).replace(/dist\/crds\/$/, "crds/");
for (const [file, text] of Object.entries(renderedManifests())) {
  writeFileSync(here + file, text);
  console.log(`wrote crds/${file}`);
}
