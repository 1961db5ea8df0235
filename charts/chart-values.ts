/**
 * `make chart-values`: the chart's image values from the images `make images` built, by digest
 * (dist/images/chart-values.yaml, for `helm install -f`). After pushing the images elsewhere,
 * pass `--set images.operator.repository=…` (the digest stays the same).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";

interface ImageEntry {
  name: string;
  ref: string;
  digest: string;
}

export function chartImageValues(images: ImageEntry[]): { images: Record<string, { repository: string; digest: string }> } {
  const byComponent = (component: string) => {
    const entry = images.find((i) => i.name === `toolfleet-${component}`);
    if (!entry) throw new Error(`images.json has no toolfleet-${component}: run make images`);
    return { repository: entry.ref.replace(/:[^:/]+$/, ""), digest: entry.digest };
  };
  return { images: { operator: byComponent("operator"), registry: byComponent("registry") } };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = join(resolve(dirname(fileURLToPath(import.meta.url)), "..", ".."), "dist", "images");
  const images = JSON.parse(readFileSync(join(dir, "images.json"), "utf8")) as ImageEntry[];
  writeFileSync(join(dir, "chart-values.yaml"), stringify(chartImageValues(images)));
  console.log(`wrote dist/images/chart-values.yaml`);
}
