/**
 * Review integrity against the real control plane, with the operator and the registry running:
 * the journey of an approved server through a reviewed release (no outage), a narrowing (no
 * review) and a rejection (off at once); the attacks of a namespace owner with the built-in
 * `edit` role and of a reviewer of one area, each refused at admission or reverted; and the
 * registry, polled as a consumer throughout, never serving anything that was not approved.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { stringify } from "yaml";
import type { McpServerObject } from "../../mcpserver/type.js";
import type { RunningOperator } from "../../operator/operator.js";
import { ControllerRevisionType } from "../../operator/revisions.js";
import { CoreTypes, type KubeObject } from "../../runtime/index.js";
import { deleteNamespace, kubectl, kubectlAs, testNamespace } from "../../local/cluster/harness.js";
import { call, startTestRegistry, type ListBody, type TestRegistry } from "../../registry-api/test/fixtures.js";
import { inNamespace, sample } from "../api/fixtures.js";
import { adminClient, conditionsOf, getServer, grantRoles, releaseMcpServers, REVIEWERS, review, startTestOperator, waitFor, type Area } from "./harness.js";

const owner = { user: "olga", groups: ["data-platform"] };
const AREAS: Area[] = ["security", "legal", "genai"];
/** Every value an attack writes carries this: the registry must never serve it. */
const MARK = "zz-attack";
const IMAGE_V2 = "registry.example.com/toolfleet/presto-mcp@sha256:" + "a".repeat(64);
const EVIL_IMAGE = `registry.example.com/${MARK}/evil@sha256:` + "c".repeat(64);

let ns: string;
let op: RunningOperator;
let reg: TestRegistry;
let consumerToken: string;

interface Deployment extends KubeObject {
  spec: { replicas: number; template: { spec: { containers: Array<{ image: string; env?: Array<{ name: string; value?: string }>; command?: string[] }> } } };
  status?: { readyReplicas?: number };
}
const deployment = (name: string) => adminClient().get<Deployment>(CoreTypes.Deployment, ns, name);
const asOwner = (args: string[]) => kubectlAs(owner.user, owner.groups, [...args, "-n", ns], { allowFailure: true });

/** The registry as a consumer sees it, polled all along. */
const seen: string[] = [];
const gaps: string[] = [];
let polling = true;
let poller: Promise<void> | undefined;
/** Servers that must stay listed from the time they were first published (no outage). */
const mustStayListed = new Set<string>();

async function listed(): Promise<ListBody["servers"]> {
  const res = await call<ListBody>(reg.registry.url, "/v0.1/servers?limit=100", consumerToken);
  return res.status === 200 ? res.body.servers : [];
}
async function poll(): Promise<void> {
  while (polling) {
    const servers = await listed().catch(() => []);
    for (const s of servers) seen.push(JSON.stringify(s));
    const names = new Set(servers.map((s) => s.server.name.split("/")[1]));
    for (const n of mustStayListed) if (!names.has(n)) gaps.push(n);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const entry = async (name: string) => (await listed()).find((s) => s.server.name.endsWith(`/${name}`));
const meta = (s: ListBody["servers"][number] | undefined) => s?._meta["dev.toolfleet/server"] as { access: { allowedGroups: string[] }; tools: Array<{ name: string; description?: string }> } | undefined;

async function approveCurrent(name: string): Promise<string> {
  const hash = await waitFor(`${name}'s specHash`, async () => (await getServer(ns, name))?.status?.specHash);
  for (const area of AREAS) await review(ns, name, area, hash);
  return hash;
}

async function createApproved(name: string, replicas = 2): Promise<McpServerObject> {
  const m = inNamespace(sample("presto.yaml"), ns, name);
  (m.spec as { workload: { replicas: number } }).workload.replicas = replicas;
  const created = await kubectlAs(owner.user, owner.groups, ["create", "-f", "-"], { input: stringify(m) });
  expect(created.code).toBe(0);
  const hash = await approveCurrent(name);
  return waitFor(
    `${name} published with ${replicas} ready`,
    async () => {
      const s = await getServer(ns, name);
      return s?.status?.registry?.published && s.status.readyReplicas === replicas && s.status.specHash === hash ? s : undefined;
    },
    60_000,
  );
}

beforeAll(async () => {
  ns = await testNamespace("op-integrity");
  await grantRoles(ns);
  // The owner has the built-in edit role in their namespace (it includes McpServers by aggregation).
  await kubectl(["create", "rolebinding", "owner-edit", "--clusterrole=edit", "--group=data-platform", "-n", ns]);
  op = await startTestOperator(ns);
  reg = await startTestRegistry(ns);
  consumerToken = await reg.issuer.userToken("ana", ["data-platform", "ads-eng", "finance", MARK]);
  poller = poll();
}, 90_000);

afterAll(async () => {
  polling = false;
  await poller;
  await reg?.stop();
  await op?.stop();
  await releaseMcpServers(ns);
  await deleteNamespace(ns);
});

describe("the journey of an approved server", () => {
  const name = "journey";
  let v1Image = "";

  it("v1: approved, 2 ready replicas, published, recorded as revision 1", async () => {
    const s = await createApproved(name);
    v1Image = (await deployment(name))!.spec.template.spec.containers[0]?.image ?? "";
    expect(s.status!.approvedRevision!.revision).toBe(1);
    const r = await adminClient().get<KubeObject & { revision: number; data: { specHash: string } }>(ControllerRevisionType, ns, s.status!.approvedRevision!.name);
    expect(r).toMatchObject({ revision: 1, data: { specHash: s.status!.specHash } });
    expect(r!.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: "McpServer", uid: s.metadata.uid, controller: true })]);
    await waitFor("the registry to list v1", async () => (await entry(name))?.server.version === "1.4.0");
    mustStayListed.add(name);
  }, 90_000);

  it("a new image waits for review while v1 keeps 2 ready replicas and stays published; reviewers see the diff", async () => {
    const patched = await asOwner(["patch", "mcpserver", name, "--type=merge", "-p", JSON.stringify({ spec: { version: "1.5.0", workload: { image: IMAGE_V2 } } })]);
    expect(patched.code).toBe(0);
    const s = await waitFor("ChangePendingReview=True", async () => {
      const s = await getServer(ns, name);
      return conditionsOf(s).ChangePendingReview === "True/ChangePendingReview" ? s : undefined;
    });
    expect(s.status!.pendingChange!.paths).toEqual(["spec.version", "spec.workload.image"]);
    expect(s.status!.pendingChange!.changes).toContainEqual({ path: "spec.workload.image", old: JSON.stringify(v1Image), new: JSON.stringify(IMAGE_V2) });
    expect(s.status!.registry!.published).toBe(true);
    const d = (await deployment(name))!;
    expect(d.spec.replicas).toBe(2);
    expect(d.status!.readyReplicas).toBe(2);
    expect(d.spec.template.spec.containers[0]?.image).toBe(v1Image);
    expect((await entry(name))?.server.version).toBe("1.4.0");
    // The reviewer's page shows the change, old and new.
    const reviewer = await reg.issuer.userToken(REVIEWERS.security.user, [...REVIEWERS.security.groups]);
    const page = await waitFor("the diff on the reviewer's page", async () => {
      const res = await call<string>(reg.registry.url, `/servers/${ns}/${name}`, reviewer, { headers: { accept: "text/html" } });
      const text = typeof res.body === "string" ? res.body : JSON.stringify(res.body);
      return text.includes('data-testid="pending-change"') ? text : undefined;
    });
    expect(page).toContain("spec.workload.image");
    expect(page).toContain(IMAGE_V2);
  }, 60_000);

  it("once the three approve, v2 rolls out without scaling to 0 or leaving the registry, and the registry shows v2", async () => {
    await approveCurrent(name);
    const s = await waitFor(
      "v2 rolled out",
      async () => {
        const [s, d] = await Promise.all([getServer(ns, name), deployment(name)]);
        return d?.spec.template.spec.containers[0]?.image === IMAGE_V2 && d.status?.readyReplicas === 2 && s?.status?.approvedRevision?.revision === 2 ? s : undefined;
      },
      60_000,
    );
    expect(s.status!.registry!.published).toBe(true);
    expect(conditionsOf(s).ChangePendingReview).toBe("False/NoPendingChange");
    await waitFor("the registry to show v2", async () => (await entry(name))?.server.version === "1.5.0");
    expect(gaps.filter((g) => g === name)).toEqual([]);
  }, 90_000);

  it("narrowing allowedGroups applies at once, without review", async () => {
    const patched = await asOwner(["patch", "mcpserver", name, "--type=merge", "-p", JSON.stringify({ spec: { access: { allowedGroups: ["data-platform", "ads-eng"] } } })]);
    expect(patched.code).toBe(0);
    const s = await waitFor("the narrowing served", async () => {
      const s = await getServer(ns, name);
      return s?.status?.served?.narrowed ? s : undefined;
    });
    expect(s.status!.served!.spec.access.allowedGroups).toEqual(["ads-eng", "data-platform"]);
    expect(s.status!.registry!.published).toBe(true);
    await waitFor("the registry to serve the narrowed groups", async () => meta(await entry(name))?.access.allowedGroups.includes("finance") === false);
    await waitFor("the pods' policy to drop finance", async () => {
      const cm = await adminClient().get<KubeObject & { data: Record<string, string> }>(CoreTypes.ConfigMap, ns, `${name}-policy`);
      return cm !== undefined && !cm.data["policy.json"]!.includes('"finance"');
    });
  }, 60_000);

  it("a reviewer's rejection unpublishes it and scales it to 0 within 2 s", async () => {
    mustStayListed.delete(name);
    const hash = (await getServer(ns, name))!.status!.specHash!;
    await review(ns, name, "legal", hash, "Rejected");
    const s = await waitFor(
      "unpublished and scaled to 0",
      async () => {
        const [s, d] = await Promise.all([getServer(ns, name), deployment(name)]);
        return s?.status?.registry?.published === false && d?.spec.replicas === 0 ? s : undefined;
      },
      2_000,
      50,
    );
    expect(s.status!.phase).toBe("Rejected");
    await waitFor("the registry to drop it", async () => (await entry(name)) === undefined);
  }, 30_000);
});

describe("attacks on an approved server", () => {
  const name = "target";
  let approvedImage = "";

  beforeAll(async () => {
    await createApproved(name);
    approvedImage = (await deployment(name))!.spec.template.spec.containers[0]?.image ?? "";
    mustStayListed.add(name);
  }, 90_000);

  it.each([
    ["an env variable (NODE_OPTIONS)", { workload: { env: [{ name: "NODE_OPTIONS", value: `--require /tmp/${MARK}.js` }] } }, "spec.workload.env"],
    ["the port", { workload: { port: 9999 } }, "spec.workload.port"],
    ["the path", { workload: { path: `/${MARK}` } }, "spec.workload.path"],
    ["the title", { title: `Presto ${MARK}` }, "spec.title"],
    ["the description", { description: `Now with ${MARK}` }, "spec.description"],
    ["a tool's description", { tools: [{ name: "run_query", description: `Run any SQL ${MARK}`, readOnly: true, minutesSaved: 5 }] }, "spec.tools"],
    ["a widening of access", { access: { allowedGroups: ["data-platform", "ads-eng", "finance", MARK] } }, "spec.access.allowedGroups"],
  ])("changing %s needs every review again; the approved revision keeps serving", async (_what, patch, path) => {
    const before = (await getServer(ns, name))!;
    const patched = await asOwner(["patch", "mcpserver", name, "--type=merge", "-p", JSON.stringify({ spec: patch })]);
    expect(patched.code).toBe(0);
    const s = await waitFor("the change to be pending", async () => {
      const s = await getServer(ns, name);
      return s?.status?.pendingChange?.paths.some((p) => p.startsWith(path)) ? s : undefined;
    });
    expect(s.status!.specHash).not.toBe(before.status!.approvedRevision!.specHash);
    expect(s.status!.approvedRevision).toEqual(before.status!.approvedRevision);
    expect(s.status!.registry!.published).toBe(true);
    expect(JSON.stringify(s.status!.served)).not.toContain(MARK);
    const d = (await deployment(name))!;
    expect(JSON.stringify(d.spec)).not.toContain(MARK);
    expect(d.spec.template.spec.containers[0]?.image).toBe(approvedImage);
    // Back to the approved spec for the next attack: the pending change disappears.
    // kubectl replace takes the current resourceVersion; a status write in between is a conflict: retry.
    const approvedSpec = stringify({ ...before, metadata: { ...before.metadata, resourceVersion: undefined, managedFields: undefined }, status: undefined });
    await waitFor("the approved spec written back", async () => (await kubectl(["replace", "-f", "-", "-n", ns], { input: approvedSpec, allowFailure: true })).code === 0);
    await waitFor("no pending change", async () => ((await getServer(ns, name))?.status?.pendingChange === undefined ? true : undefined));
  }, 90_000);

  const reverted = async (what: string, check: () => Promise<boolean>) => waitFor(`${what} reverted`, async () => ((await check()) ? true : undefined), 2_000, 50);

  it("kubectl scale is reverted within 2 s", async () => {
    expect((await asOwner(["scale", `deployment/${name}`, "--replicas=5"])).code).toBe(0);
    await reverted("replicas", async () => (await deployment(name))?.spec.replicas === 2);
  });

  // Changes to the pod template: a namespace editor is refused at admission (the server-pods
  // policy); whoever admission lets through (here a cluster admin) is reverted by the operator.
  const asAdmin = (args: string[]) => kubectl([...args, "-n", ns]);
  const refusedForOwner = async (args: string[]) => {
    const r = await asOwner(args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("toolfleet-server-pods");
  };

  it("kubectl set image: refused for the owner, reverted within 2 s for an admin", async () => {
    const args = ["set", "image", `deployment/${name}`, `server=${EVIL_IMAGE}`];
    await refusedForOwner(args);
    expect((await asAdmin(args)).code).toBe(0);
    await reverted("image", async () => (await deployment(name))?.spec.template.spec.containers[0]?.image === approvedImage);
  });

  it("an env variable added to the Deployment: refused for the owner, removed within 2 s for an admin", async () => {
    const args = ["set", "env", `deployment/${name}`, `ZZ_ATTACK=${MARK}`];
    await refusedForOwner(args);
    expect((await asAdmin(args)).code).toBe(0);
    await reverted("env", async () => !JSON.stringify((await deployment(name))?.spec.template.spec.containers[0]?.env ?? []).includes(MARK));
  });

  it("a command added to the container: refused for the owner, removed within 2 s for an admin", async () => {
    const patch = [{ op: "add", path: "/spec/template/spec/containers/0/command", value: ["/bin/sh", "-c", MARK] }];
    const args = ["patch", "deployment", name, "--type=json", "-p", JSON.stringify(patch)];
    await refusedForOwner(args);
    expect((await asAdmin(args)).code).toBe(0);
    await reverted("command", async () => (await deployment(name))?.spec.template.spec.containers[0]?.command === undefined);
  });

  it("a group added to the policy ConfigMap is removed within 2 s", async () => {
    const cm = await adminClient().get<KubeObject & { data: Record<string, string> }>(CoreTypes.ConfigMap, ns, `${name}-policy`);
    const policy = JSON.parse(cm!.data["policy.json"]!) as { access: { allowedGroups: string[] } };
    policy.access.allowedGroups.push(MARK);
    const patch = { data: { "policy.json": JSON.stringify(policy) } };
    expect((await asOwner(["patch", "configmap", `${name}-policy`, "--type=merge", "-p", JSON.stringify(patch)])).code).toBe(0);
    await reverted("policy", async () => {
      const now = await adminClient().get<KubeObject & { data: Record<string, string> }>(CoreTypes.ConfigMap, ns, `${name}-policy`);
      return now !== undefined && !now.data["policy.json"]!.includes(MARK);
    });
  });

  it("a deleted NetworkPolicy is back within 2 s", async () => {
    expect((await asOwner(["delete", "networkpolicy", name])).code).toBe(0);
    await reverted("NetworkPolicy", async () => (await adminClient().get(CoreTypes.NetworkPolicy, ns, name)) !== undefined);
  });

  it("a NetworkPolicy opened to every namespace is closed again within 2 s", async () => {
    const patch = [{ op: "replace", path: "/spec/ingress/0/from", value: [{ namespaceSelector: {} }] }];
    expect((await asOwner(["patch", "networkpolicy", name, "--type=json", "-p", JSON.stringify(patch)])).code).toBe(0);
    await reverted("NetworkPolicy", async () => {
      const np = await adminClient().get<KubeObject & { spec: { ingress: Array<{ from: unknown[] }> } }>(CoreTypes.NetworkPolicy, ns, name);
      return JSON.stringify(np?.spec.ingress[0]?.from).includes("kubernetes.io/metadata.name");
    });
  });

  it("the owner cannot write the status, nor a ControllerRevision, nor a review (refused at admission)", async () => {
    const status = await asOwner(["patch", "mcpserver", name, "--subresource=status", "--type=merge", "-p", JSON.stringify({ status: { served: { revision: MARK } } })]);
    expect(status.code).not.toBe(0);
    expect(status.stderr).toMatch(/forbidden/i);
    const revision = { apiVersion: "apps/v1", kind: "ControllerRevision", metadata: { name: `${name}-${MARK}`, namespace: ns }, revision: 99, data: {} };
    const created = await kubectlAs(owner.user, owner.groups, ["create", "-f", "-"], { input: stringify(revision), allowFailure: true });
    expect(created.code).not.toBe(0);
    expect(created.stderr).toMatch(/forbidden/i);
    const hash = (await getServer(ns, name))!.status!.specHash!;
    const forged = await asOwner(["patch", "mcpserver", name, "--type=merge", "-p", JSON.stringify({ spec: { review: { security: { decision: "Approved", reviewer: owner.user, specHash: hash } } } })]);
    expect(forged.code).not.toBe(0);
    expect(forged.stderr).toMatch(/only the area's reviewer group/);
  });

  it("a reviewer of one area cannot approve for another, and their own approval of a change they made deploys nothing", async () => {
    const sec = REVIEWERS.security;
    const hash = (await getServer(ns, name))!.status!.specHash!;
    const other = await kubectlAs(sec.user, [...sec.groups], ["patch", "mcpserver", name, "-n", ns, "--type=merge", "-p", JSON.stringify({ spec: { review: { legal: { decision: "Approved", reviewer: sec.user, specHash: hash } } } })], { allowFailure: true });
    expect(other.code).not.toBe(0);
    const changed = await kubectlAs(sec.user, [...sec.groups], ["patch", "mcpserver", name, "-n", ns, "--type=merge", "-p", JSON.stringify({ spec: { workload: { image: EVIL_IMAGE } } })], { allowFailure: true });
    if (changed.code === 0) {
      const pending = await waitFor("the change to be pending", async () => (await getServer(ns, name))?.status?.pendingChange);
      await review(ns, name, "security", pending.specHash);
      const s = await waitFor("security's approval to count", async () => {
        const s = await getServer(ns, name);
        const r = s?.status?.review;
        return r && s.status!.specHash === pending.specHash && !(r.pending ?? []).includes("security") && !(r.stale ?? []).includes("security") ? s : undefined;
      });
      expect(s.status!.review!.approved).toBe(false);
      expect((await deployment(name))!.spec.template.spec.containers[0]?.image).toBe(approvedImage);
      expect(s.status!.registry!.published).toBe(true);
    }
  }, 30_000);

  it("the registry never served anything that was not approved, and never dropped a server during a change", () => {
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((s) => s.includes(MARK))).toEqual([]);
    expect(gaps).toEqual([]);
  });
});
