/**
 * Only the operator's own pods may sit behind a server's Service. The Service and the
 * NetworkPolicy select pods by the server label, so a namespace editor (the built-in `edit`
 * role) who could put that label on a pod of their own would receive the bearer tokens people
 * send to an approved server. Each way in is refused at admission by the server-pods policy,
 * nothing is stored, and the Service's endpoints stay the operator's pods.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { stringify } from "yaml";
import { SERVER_PODS_POLICY } from "../../crds/server-pods-policy.js";
import { SERVER_LABEL } from "../../mcpserver/names.js";
import type { RunningOperator } from "../../operator/operator.js";
import { CoreTypes, type KubeObject } from "../../runtime/index.js";
import { deleteNamespace, kubectl, kubectlAs, testNamespace } from "../../local/cluster/harness.js";
import { inNamespace, sample } from "../api/fixtures.js";
import { adminClient, getServer, grantRoles, releaseMcpServers, review, startTestOperator, waitFor, type Area } from "./harness.js";

const ReplicaSetType = { group: "apps", version: "v1", kind: "ReplicaSet", plural: "replicasets", namespaced: true } as const;
const owner = { user: "olga", groups: ["data-platform"] };
const name = "guarded";
const EVIL_IMAGE = "registry.example.com/attacker/sniffer@sha256:" + "e".repeat(64);

let ns: string;
let op: RunningOperator;

const asOwner = (args: string[], input?: string) => kubectlAs(owner.user, owner.groups, [...args, "-n", ns], { allowFailure: true, input });

interface Pod extends KubeObject {
  spec: { containers: Array<{ name: string; image: string }>; ephemeralContainers?: unknown[] };
  status?: { podIP?: string };
}
const serverPods = async () => {
  const list = await adminClient().list<Pod>(CoreTypes.Pod, { namespace: ns, labelSelector: `${SERVER_LABEL}=${name}` });
  return list.items;
};

const container = { name: "c", image: EVIL_IMAGE };
const labelled = { labels: { [SERVER_LABEL]: name, app: "sniffer" } };
const template = { metadata: labelled, spec: { containers: [container] } };
const selector = { matchLabels: labelled.labels };
/** A workload of each kind whose pods would carry the server's label. */
const attacks: Array<[string, object]> = [
  ["a Pod", { apiVersion: "v1", kind: "Pod", metadata: { name: "sniffer-pod", ...labelled }, spec: { containers: [container] } }],
  ["a Deployment", { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "sniffer-deploy" }, spec: { replicas: 1, selector, template } }],
  ["a ReplicaSet", { apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: "sniffer-rs" }, spec: { replicas: 1, selector, template } }],
  ["a StatefulSet", { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "sniffer-sts" }, spec: { serviceName: "x", selector, template } }],
  ["a DaemonSet", { apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "sniffer-ds" }, spec: { selector, template } }],
  ["a Job", { apiVersion: "batch/v1", kind: "Job", metadata: { name: "sniffer-job" }, spec: { template: { ...template, spec: { ...template.spec, restartPolicy: "Never" } } } }],
  [
    "a CronJob",
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "sniffer-cron" },
      spec: { schedule: "* * * * *", jobTemplate: { spec: { template: { ...template, spec: { ...template.spec, restartPolicy: "Never" } } } } },
    },
  ],
  ["a ReplicationController", { apiVersion: "v1", kind: "ReplicationController", metadata: { name: "sniffer-rc" }, spec: { replicas: 1, selector: labelled.labels, template } }],
];

const refusedByPolicy = (r: { code: number; stderr: string }) => {
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain(SERVER_PODS_POLICY);
  expect(r.stderr).toContain(`${owner.user} may not`);
};

beforeAll(async () => {
  ns = await testNamespace("server-pods");
  await grantRoles(ns);
  await kubectl(["create", "rolebinding", "owner-edit", "--clusterrole=edit", "--group=data-platform", "-n", ns]);
  op = await startTestOperator(ns);
  const m = inNamespace(sample("presto.yaml"), ns, name);
  expect((await kubectlAs(owner.user, owner.groups, ["create", "-f", "-"], { input: stringify(m) })).code).toBe(0);
  const hash = await waitFor("the specHash", async () => (await getServer(ns, name))?.status?.specHash);
  for (const area of ["security", "legal", "genai"] as Area[]) await review(ns, name, area, hash);
  await waitFor("2 ready replicas", async () => (await getServer(ns, name))?.status?.readyReplicas === 2, 60_000);
}, 90_000);

afterAll(async () => {
  await op?.stop();
  await releaseMcpServers(ns);
  await deleteNamespace(ns);
});

describe("pods behind a server's Service", () => {
  it("the operator's Deployment makes them: two pods carry the label, owned by its ReplicaSet", async () => {
    const pods = await serverPods();
    expect(pods).toHaveLength(2);
    for (const p of pods) expect(p.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: "ReplicaSet", controller: true })]);
  });

  it.each(attacks)("a namespace editor cannot create %s whose pods carry the label; nothing is stored", async (_what, manifest) => {
    const r = await asOwner(["create", "-f", "-"], stringify(manifest));
    refusedByPolicy(r);
    const kind = (manifest as { kind: string }).kind.toLowerCase();
    const got = await kubectl(["get", kind, (manifest as { metadata: { name: string } }).metadata.name, "-n", ns], { allowFailure: true });
    expect(got.stderr).toContain("NotFound");
  });

  it("a namespace editor cannot label a pod of their own into the server", async () => {
    const plain = { apiVersion: "v1", kind: "Pod", metadata: { name: "own-pod" }, spec: { containers: [container] } };
    expect((await asOwner(["create", "-f", "-"], stringify(plain))).code).toBe(0);
    refusedByPolicy(await asOwner(["label", "pod", "own-pod", `${SERVER_LABEL}=${name}`]));
    const pod = await adminClient().get<Pod>(CoreTypes.Pod, ns, "own-pod");
    expect(pod!.metadata.labels?.[SERVER_LABEL]).toBeUndefined();
  });

  it("a namespace editor cannot change a server pod: not its image, not its labels, not an ephemeral container even when allowed to debug", async () => {
    // The built-in edit role has no ephemeral containers; a team that may debug its pods does.
    await kubectl(["create", "role", "debugger", "--verb=get,patch,update", "--resource=pods/ephemeralcontainers", "-n", ns]);
    await kubectl(["create", "rolebinding", "owner-debug", "--role=debugger", "--group=data-platform", "-n", ns]);
    const [pod] = await serverPods();
    const image = pod!.spec.containers[0]!.image;
    refusedByPolicy(await asOwner(["set", "image", `pod/${pod!.metadata.name}`, `server=${EVIL_IMAGE}`]));
    refusedByPolicy(await asOwner(["label", "pod", pod!.metadata.name, `${SERVER_LABEL}-`]));
    const debug = { spec: { ephemeralContainers: [{ name: "tap", image: EVIL_IMAGE, targetContainerName: "server" }] } };
    const r = await asOwner(["patch", "pod", pod!.metadata.name, "--subresource=ephemeralcontainers", "--type=strategic", "-p", JSON.stringify(debug)]);
    refusedByPolicy(r);
    expect(r.stderr).toContain("(ephemeralcontainers)");
    const now = (await adminClient().get<Pod>(CoreTypes.Pod, ns, pod!.metadata.name))!;
    expect(now.spec.containers[0]!.image).toBe(image);
    expect(now.spec.ephemeralContainers).toBeUndefined();
    expect(now.metadata.labels?.[SERVER_LABEL]).toBe(name);
  });

  it("a namespace editor cannot change the operator's ReplicaSet's pod template", async () => {
    const rs = await adminClient().list<KubeObject>(ReplicaSetType, { namespace: ns, labelSelector: `${SERVER_LABEL}=${name}` });
    expect(rs.items.length).toBeGreaterThan(0);
    refusedByPolicy(await asOwner(["set", "image", `replicaset/${rs.items[0]!.metadata.name}`, `server=${EVIL_IMAGE}`]));
  });

  it("the Service's endpoints are the operator's pods and nothing else", async () => {
    const pods = await serverPods();
    const ips = pods.map((p) => p.status?.podIP).filter(Boolean).sort();
    expect(ips).toHaveLength(2);
    const slices = JSON.parse((await kubectl(["get", "endpointslices", "-n", ns, "-l", `kubernetes.io/service-name=${name}`, "-o", "json"])).stdout) as {
      items: Array<{ endpoints?: Array<{ addresses: string[]; targetRef?: { name: string } }> }>;
    };
    const endpoints = slices.items.flatMap((s) => s.endpoints ?? []);
    expect(endpoints.flatMap((e) => e.addresses).sort()).toEqual(ips);
    expect(endpoints.map((e) => e.targetRef?.name).sort()).toEqual(pods.map((p) => p.metadata.name).sort());
  });

  it("an editor's ordinary workloads are none of the policy's business", async () => {
    const deploy = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "ordinary" },
      spec: { replicas: 1, selector: { matchLabels: { app: "ordinary" } }, template: { metadata: { labels: { app: "ordinary" } }, spec: { containers: [container] } } },
    };
    const r = await asOwner(["create", "-f", "-"], stringify(deploy));
    expect(r.code).toBe(0);
    await waitFor("the ordinary Deployment's pod", async () => (await adminClient().list<Pod>(CoreTypes.Pod, { namespace: ns, labelSelector: "app=ordinary" })).items.length === 1);
  });
});
