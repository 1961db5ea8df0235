/**
 * The operator owns its children and only them, against the real control plane: an object of
 * each child kind that someone else made under a child's name is never taken over (a
 * ChildConflict condition names it, nothing of the server is written or deployed, the object is
 * untouched), and deleting an McpServer leaves every object it does not control alone.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { stringify } from "yaml";
import type { RunningOperator } from "../../operator/operator.js";
import { CHILDREN } from "../../operator/children.js";
import { CoreTypes, type KubeObject } from "../../runtime/index.js";
import { McpServerType } from "../../mcpserver/type.js";
import { MANAGED_BY, SERVER_LABEL } from "../../mcpserver/names.js";
import { deleteNamespace, kubectl, testNamespace } from "../../local/cluster/harness.js";
import { inNamespace, sample } from "../api/fixtures.js";
import { adminClient, conditionOf, getServer, grantRoles, releaseMcpServers, review, startTestOperator, waitFor } from "./harness.js";

let ns: string;
let op: RunningOperator;

/** A minimal object of each kind, as a team might have made it, with no owner. */
function foreign(kind: string, name: string): KubeObject & Record<string, unknown> {
  const metadata = { name, namespace: ns, labels: { made: "by-hand" } };
  switch (kind) {
    case "ServiceAccount":
      return { apiVersion: "v1", kind, metadata };
    case "ConfigMap":
      return { apiVersion: "v1", kind, metadata, data: { "policy.json": "{}" } };
    case "Deployment":
      return {
        apiVersion: "apps/v1",
        kind,
        metadata,
        spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "c", image: "registry.example.com/other@sha256:" + "d".repeat(64) }] } } },
      };
    case "Service":
      return { apiVersion: "v1", kind, metadata, spec: { selector: { app: name }, ports: [{ port: 80 }] } };
    default:
      return { apiVersion: "networking.k8s.io/v1", kind, metadata, spec: { podSelector: {}, policyTypes: ["Ingress"] } };
  }
}

async function approve(name: string): Promise<void> {
  const hash = await waitFor(`${name}'s specHash`, async () => (await getServer(ns, name))?.status?.specHash);
  for (const area of ["security", "legal", "genai"] as const) await review(ns, name, area, hash);
}

beforeAll(async () => {
  ns = await testNamespace("op-conflict");
  await grantRoles(ns);
  op = await startTestOperator(ns);
}, 60_000);

afterAll(async () => {
  await op?.stop();
  await releaseMcpServers(ns);
  await deleteNamespace(ns);
});

describe("name conflicts", () => {
  it.each(CHILDREN.map((k) => [k.type.kind, k] as const))("a %s someone else made is refused, untouched, and nothing is deployed", async (kind, k) => {
    const name = `c-${kind.toLowerCase()}`;
    const theirs = foreign(kind, k.name(name));
    const made = await adminClient().create(k.type, theirs);
    await kubectl(["apply", "-f", "-"], { input: stringify(inNamespace(sample("presto.yaml"), ns, name)) });
    await approve(name);
    const s = await waitFor(`ChildConflict on ${name}`, async () => {
      const s = await getServer(ns, name);
      return conditionOf(s, "ChildConflict")?.status === "True" ? s : undefined;
    });
    expect(conditionOf(s, "ChildConflict")!.message).toContain(`${kind} ${ns}/${k.name(name)}`);
    expect(s.status!.registry!.published).toBe(false);
    const now = await adminClient().get(k.type, ns, k.name(name));
    // Untouched by the operator: no write of its own in the object's field managers, the same spec (generation).
    expect(((now!.metadata.managedFields ?? []) as Array<{ manager: string }>).map((f) => f.manager)).not.toContain("toolfleet-operator");
    expect(now!.metadata.generation).toBe(made.metadata.generation);
    expect(now!.metadata.ownerReferences ?? []).toEqual([]);
    // Nothing else of the server exists: no Deployment of its own runs beside the other's object.
    for (const other of CHILDREN.filter((c) => c !== k)) expect(await adminClient().get(other.type, ns, other.name(name))).toBeUndefined();

    // Deleting the McpServer leaves their object alone.
    await adminClient().delete(McpServerType, ns, name);
    await waitFor(`${name} gone`, async () => (await getServer(ns, name)) === undefined);
    expect((await adminClient().get(k.type, ns, k.name(name)))?.metadata.uid).toBe(made.metadata.uid);
  }, 60_000);
});

describe("deletion", () => {
  it("removes only the objects this McpServer controls", async () => {
    const name = "deleted";
    await kubectl(["apply", "-f", "-"], { input: stringify(inNamespace(sample("presto.yaml"), ns, name)) });
    await approve(name);
    await waitFor("children", async () => (await adminClient().get(CoreTypes.Deployment, ns, name)) !== undefined);
    // Look-alikes: labelled as if the operator had made them for this server, but not controlled by it.
    const lookalike = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `${name}-extra`, namespace: ns, labels: { "app.kubernetes.io/managed-by": MANAGED_BY, [SERVER_LABEL]: name } }, data: { a: "b" } };
    const kept = await adminClient().create(CoreTypes.ConfigMap, lookalike);
    await adminClient().delete(McpServerType, ns, name);
    for (const k of CHILDREN) await waitFor(`${k.type.kind} gone`, async () => (await adminClient().get(k.type, ns, k.name(name))) === undefined, 30_000);
    expect((await adminClient().get(CoreTypes.ConfigMap, ns, `${name}-extra`))?.metadata.uid).toBe(kept.metadata.uid);
  }, 60_000);
});
