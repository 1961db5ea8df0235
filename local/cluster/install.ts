/**
 * Installs Toolfleet's API into the local control plane: the CRD, the review-gate policy and
 * its reviewer groups, a fake node for kwok; then waits until the CRD is established and the
 * admission policy is enforced.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { CRD_FILE, POLICY_FILE, RBAC_FILE } from "../../crds/manifests.js";
import { SYSTEM_NAMESPACE } from "../../crds/review-policy.js";
import { kubectl } from "./kubectl.js";
import { repoRoot } from "./paths.js";
import { progress } from "./controlplane.js";
import { waitFor } from "../wait-for.js";

export const FAKE_NODE = "kwok-node-0";

const fakeNode = {
  apiVersion: "v1",
  kind: "Node",
  metadata: {
    name: FAKE_NODE,
    annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
    labels: { "kubernetes.io/hostname": FAKE_NODE, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", type: "kwok" },
  },
};

const apply = (yaml: string) => kubectl(["apply", "--server-side", "--force-conflicts", "--field-manager=toolfleet-install", "-f", "-"], { input: yaml });

export async function installToolfleetApi(): Promise<void> {
  const crds = join(repoRoot(), "crds");
  await apply(stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: SYSTEM_NAMESPACE } }));
  await apply(readFileSync(join(crds, CRD_FILE), "utf8"));
  await apply(readFileSync(join(crds, POLICY_FILE), "utf8"));
  await apply(readFileSync(join(crds, RBAC_FILE), "utf8"));
  await apply(stringify(fakeNode));
  await kubectl(["wait", "--for=condition=Established", "--timeout=60s", "crd/mcpservers.toolfleet.dev"]);
  await waitForReviewGate();
  progress("installed the McpServer CRD, the review-gate admission policy and a fake node");
}

/**
 * The API server compiles a new admission policy in the background; until it has, writes slip
 * through. Probe with a server-side dry run by a user who is no reviewer until it is refused.
 */
async function waitForReviewGate(): Promise<void> {
  const probe = stringify({
    apiVersion: "toolfleet.dev/v1alpha1",
    kind: "McpServer",
    metadata: { name: "review-gate-probe", namespace: SYSTEM_NAMESPACE },
    spec: {
      title: "Probe", description: "Checks that the review gate is enforced", version: "0.0.1",
      owner: { team: "platform", contact: "#platform" },
      remote: { url: "https://probe.invalid/mcp" },
      access: { allowedGroups: [] },
      tools: [{ name: "noop" }],
      review: { security: { decision: "Pending" } },
    },
  });
  const refused = async () => {
    const r = await kubectl(["create", "--dry-run=server", "-f", "-"], { input: probe, allowFailure: true });
    return r.code !== 0 && r.stderr.includes("toolfleet-review-gate");
  };
  await waitFor("the review-gate admission policy to be enforced (see `kubectl get validatingadmissionpolicy toolfleet-review-gate -o yaml`)", refused, 60_000, 250);
}
