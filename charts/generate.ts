/**
 * `make chart`: the chart's copies of what crds/ defines, so the chart never drifts from the
 * API — the CRD (the chart's crds/, which Helm installs before anything else and never
 * deletes), the review-gate and server-pods policies' specs (templated into policies named
 * after the release), the controllers the server-pods policy trusts, and the people's ClusterRoles. charts/chart.test.ts fails when a copy is stale.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { CRD_FILE, RBAC_FILE } from "../crds/manifests.js";
import { reviewGatePolicy } from "../crds/review-policy.js";
import { defaultServerPodWriters, serverPodsPolicy } from "../crds/server-pods-policy.js";

export const CHART_DIR = join("charts", "toolfleet");
const header = "# Generated from crds/ by `make chart`; do not edit.\n";

/** Path under the repository → content. */
export function chartGeneratedFiles(repoRoot: string): Record<string, string> {
  const crds = join(repoRoot, "crds");
  return {
    [join(CHART_DIR, "crds", CRD_FILE)]: readFileSync(join(crds, CRD_FILE), "utf8"),
    [join(CHART_DIR, "files", "user-roles.yaml")]: readFileSync(join(crds, RBAC_FILE), "utf8"),
    [join(CHART_DIR, "files", "review-gate-policy-spec.yaml")]: header + stringify(reviewGatePolicy().spec, { lineWidth: 0 }),
    [join(CHART_DIR, "files", "server-pods-policy-spec.yaml")]: header + stringify(serverPodsPolicy().spec, { lineWidth: 0 }),
    // The Kubernetes controllers that may carry a server's pod template down; the chart adds its operator.
    [join(CHART_DIR, "files", "server-pod-controllers.yaml")]: header + stringify(defaultServerPodWriters([]), { lineWidth: 0 }),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
  for (const [path, text] of Object.entries(chartGeneratedFiles(repoRoot))) {
    writeFileSync(join(repoRoot, path), text);
    console.log(`wrote ${path}`);
  }
}
