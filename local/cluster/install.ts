/**
 * Installs Toolfleet's API into the local control plane: the CRD, the review-gate policy and
 * its reviewer groups, the server-pods policy and its writers, a fake node for kwok; then waits
 * until the CRD is established and both admission policies are enforced.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { CRD_FILE, POLICY_FILE, RBAC_FILE, SERVER_PODS_FILE } from "../../crds/manifests.js";
import { POLICY_NAME, SYSTEM_NAMESPACE } from "../../crds/review-policy.js";
import { SERVER_LABEL } from "../../mcpserver/names.js";
import { defaultServerPodWriters, SERVER_PODS_POLICY, serverPodWritersConfigMap } from "../../crds/server-pods-policy.js";
import { ADMIN_USER, progress } from "./controlplane.js";
import { kubectl } from "./kubectl.js";
import { repoRoot } from "./paths.js";
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
  await apply(readFileSync(join(crds, SERVER_PODS_FILE), "utf8"));
  // The operator runs as the admin here (tests, `make run`), not as a service account of the system namespace.
  await apply(stringify(serverPodWritersConfigMap(defaultServerPodWriters([ADMIN_USER, `system:serviceaccounts:${SYSTEM_NAMESPACE}`]))));
  await apply(stringify(fakeNode));
  await kubectl(["wait", "--for=condition=Established", "--timeout=60s", "crd/mcpservers.toolfleet.dev"]);
  await waitForPolicies();
  progress("installed the McpServer CRD, the review-gate and server-pods admission policies and a fake node");
}

/**
 * The API server compiles a new admission policy in the background; until it has, writes slip
 * through. Probe each with a server-side dry run it must refuse: an McpServer with a review by a
 * user who is no reviewer, and a Job whose pods would carry the server label.
 */
async function waitForPolicies(): Promise<void> {
  const reviewProbe = {
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
  };
  const serverPodsProbe = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "server-pods-probe", namespace: SYSTEM_NAMESPACE },
    spec: {
      template: {
        metadata: { labels: { [SERVER_LABEL]: "probe" } },
        spec: { restartPolicy: "Never", containers: [{ name: "probe", image: "probe.invalid/none" }] },
      },
    },
  };
  await waitUntilRefused(POLICY_NAME, reviewProbe);
  await waitUntilRefused(SERVER_PODS_POLICY, serverPodsProbe);
}

async function waitUntilRefused(policy: string, probe: object): Promise<void> {
  const refused = async () => {
    const r = await kubectl(["create", "--dry-run=server", "-f", "-"], { input: stringify(probe), allowFailure: true });
    return r.code !== 0 && r.stderr.includes(policy);
  };
  await waitFor(`the ${policy} admission policy to be enforced (see \`kubectl get validatingadmissionpolicy ${policy} -o yaml\`)`, refused, 60_000, 250);
}
