/**
 * The chart on the real node: `helm install` with the images `make images` built (by digest,
 * as `make chart-values` writes them) runs the operator and the registry as pods, two of each,
 * which reach the API server through the kubernetes Service as on any cluster. One operator
 * leads (its Lease); deleting that pod hands the Lease to the other. The registry answers
 * through its Service, ready only once it has read the McpServers from the API server.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { chartImageValues } from "../../charts/chart-values.js";
import { chartPath, helm, helmOk } from "../../charts/helm.js";
import { cluster, deleteNamespace, kubectl, testNamespace } from "../../local/cluster/harness.js";
import { adminKubeconfigPath, repoRoot, stateDir } from "../../local/cluster/paths.js";
import { ensureRealNode, realNodeNamespace, REAL_NODE } from "../../local/node/harness.js";
import { waitFor } from "../operator/harness.js";

const release = `rnc-${randomBytes(2).toString("hex")}`;
const operatorName = `${release}-toolfleet-operator`;
const registryName = `${release}-toolfleet-registry`;
const kube = { kubeconfig: adminKubeconfigPath() };

let releaseNs = "";
let serverNs = "";
let images: ReturnType<typeof chartImageValues>["images"];

interface PodJson {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { nodeName?: string; containers: Array<{ image: string }> };
  status: { conditions?: { type: string; status: string }[]; containerStatuses?: Array<{ imageID: string }> };
}

async function pods(component: "operator" | "registry"): Promise<PodJson[]> {
  const { stdout } = await kubectl(["get", "pods", "-n", releaseNs, "-l", `app.kubernetes.io/name=toolfleet-${component}`, "-o", "json"]);
  return (JSON.parse(stdout) as { items: PodJson[] }).items.filter((p) => !p.metadata.deletionTimestamp);
}
const isReady = (p: PodJson) => p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

async function leaseHolder(): Promise<string> {
  const r = await kubectl(["get", "lease", "-n", releaseNs, operatorName, "-o", "jsonpath={.spec.holderIdentity}"], { allowFailure: true });
  return r.code === 0 ? r.stdout.trim() : "";
}

beforeAll(async () => {
  await ensureRealNode();
  images = chartImageValues(JSON.parse(readFileSync(join(repoRoot(), "dist", "images", "images.json"), "utf8"))).images;
  releaseNs = await realNodeNamespace("rn-chart");
  serverNs = await testNamespace("rn-chart-srv");
  const work = join(stateDir(), "chart-test", release);
  mkdirSync(work, { recursive: true });
  const values = join(work, "values.yaml");
  writeFileSync(
    values,
    stringify({
      images,
      userRoles: { create: false }, // the control plane already has the project's people roles
      operator: { watchNamespaces: [serverNs] },
      review: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": serverNs } } },
      // The registry needs the audience of people's tokens (it has no URL of its own to default to).
      oidc: { issuer: "https://idp.example.com", jwksUrl: "https://idp.example.com/jwks", audience: "toolfleet-registry" },
      serviceAccountIssuer: { issuer: cluster().server },
    }),
  );
  await helmOk(["install", release, chartPath(), "-n", releaseNs, "-f", values], kube);
}, 10 * 60_000);

afterAll(async () => {
  if (releaseNs) await helm(["uninstall", release, "-n", releaseNs, "--ignore-not-found"], kube);
  for (const ns of [serverNs, releaseNs]) if (ns) await deleteNamespace(ns);
});

describe("the chart on the real node", () => {
  it("runs the operator and the registry as pods from the built images, two of each, Ready", async () => {
    const all = await waitFor(
      "two Ready pods of each",
      async () => {
        const [operators, registries] = [await pods("operator"), await pods("registry")];
        return operators.length === 2 && registries.length === 2 && [...operators, ...registries].every(isReady) ? { operators, registries } : undefined;
      },
      300_000,
      1000,
    );
    for (const [component, list] of [
      ["operator", all.operators],
      ["registry", all.registries],
    ] as const) {
      const image = images[component]!;
      for (const pod of list) {
        expect(pod.spec.nodeName).toBe(REAL_NODE);
        expect(pod.spec.containers[0]!.image).toBe(`${image.repository}@${image.digest}`);
        expect(pod.status.containerStatuses?.[0]?.imageID).toContain(image.digest);
      }
    }
  }, 360_000);

  it("hands leadership to another operator pod when the leader's pod is deleted", async () => {
    const names = (await pods("operator")).map((p) => p.metadata.name);
    const leader = await waitFor("an operator pod holding the Lease", async () => {
      const holder = await leaseHolder();
      return names.includes(holder) ? holder : undefined;
    }, 120_000, 500);
    await kubectl(["delete", "pod", "-n", releaseNs, leader, "--wait=false"]);
    const next = await waitFor("the Lease to change hands", async () => {
      const holder = await leaseHolder();
      return holder && holder !== leader ? holder : undefined;
    }, 120_000, 500);
    // The standby usually takes it; the ReplicaSet's replacement for the deleted pod may win the
    // race on a busy machine. Either way it is a live operator pod of this release.
    const live = (await pods("operator")).map((p) => p.metadata.name);
    expect(live).toContain(next);
  }, 300_000);

  it("answers through the registry's Service: ready once it has read the McpServers from the API server, and asks for a token", async () => {
    const ip = (await kubectl(["get", "service", "-n", releaseNs, registryName, "-o", "jsonpath={.spec.clusterIP}"])).stdout.trim();
    expect(ip).toMatch(/^10\.96\./);
    const ready = await waitFor("the registry ready through its Service", async () => {
      const res = await fetch(`http://${ip}/readyz`, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
      return res?.ok ? ((await res.json()) as { status: string }) : undefined;
    }, 120_000, 500);
    expect(ready.status).toBe("ready");
    const listing = await fetch(`http://${ip}/v0.1/servers`, { signal: AbortSignal.timeout(3000) });
    expect(listing.status).toBe(401);
    expect(listing.headers.get("www-authenticate")).toMatch(/^Bearer /);
    const metadata = (await (await fetch(`http://${ip}/.well-known/oauth-protected-resource`, { signal: AbortSignal.timeout(3000) })).json()) as { resource: string; authorization_servers?: string[] };
    expect(metadata.resource).toBe(`http://${registryName}.${releaseNs}.svc.cluster.local`);
    expect(metadata.authorization_servers).toEqual(["https://idp.example.com"]);
  }, 180_000);
});
