/**
 * The reconciler's unit tier: the real reconciler over in-memory caches and a fake client that
 * records writes (ReconcilerClient), so what it writes, in which order, and what it never writes
 * are checked without a control plane. The real-cluster suites in test/operator stay.
 */
import { describe, expect, it } from "@jest/globals";
import type { McpServerStatus } from "../../crds/index.js";
import type { KubeObject, ObjectCache, ResourceType } from "../../runtime/index.js";
import type { McpServerObject } from "../../mcpserver/type.js";
import { slimChild } from "../children.js";
import { loadConfig } from "../config.js";
import { McpServerReconciler } from "../reconciler.js";
import type { ReconcilerClient } from "../reconciler-client.js";
import type { ControllerRevision } from "../revisions.js";
import { specHash } from "../spec-hash.js";
import { sampleServer } from "./fixtures.js";
import { silentLogger } from "../../common/log.js";

type Write = { verb: string; kind: string; name: string; body?: KubeObject };

/** Caches and a client that act like the API server for what the reconciler does. */
class FakeCluster implements ReconcilerClient {
  readonly writes: Write[] = [];
  readonly objects = new Map<string, KubeObject>();
  status: McpServerStatus | undefined;
  private uid = 0;
  private key = (kind: string, name: string) => `${kind}/${name}`;

  async create(type: ResourceType, obj: KubeObject) {
    this.writes.push({ verb: "create", kind: type.kind, name: obj.metadata.name, body: obj });
    if (this.objects.has(this.key(type.kind, obj.metadata.name))) return undefined;
    const stored = { ...obj, metadata: { ...obj.metadata, uid: `uid-${++this.uid}`, resourceVersion: "1" } };
    this.objects.set(this.key(type.kind, obj.metadata.name), stored);
    return stored;
  }
  async replace(type: ResourceType, obj: KubeObject) {
    this.writes.push({ verb: "replace", kind: type.kind, name: obj.metadata.name, body: obj });
    this.objects.set(this.key(type.kind, obj.metadata.name), obj);
    return obj;
  }
  async get(type: ResourceType, _ns: string, name: string) {
    return this.objects.get(this.key(type.kind, name));
  }
  async deleteIfUid(type: ResourceType, _ns: string, name: string, uid: string) {
    this.writes.push({ verb: "delete", kind: type.kind, name });
    if (this.objects.get(this.key(type.kind, name))?.metadata.uid === uid) this.objects.delete(this.key(type.kind, name));
  }
  async setRevisionNumber(_ns: string, name: string) {
    this.writes.push({ verb: "renumber", kind: "ControllerRevision", name });
  }
  async applyStatus(_o: McpServerObject, status: McpServerStatus) {
    this.writes.push({ verb: "status", kind: "McpServer", name: "presto" });
    this.status = status;
  }
  async removeFinalizer() {
    this.writes.push({ verb: "unfinalize", kind: "McpServer", name: "presto" });
  }
  cache(type: ResourceType): ObjectCache<KubeObject> {
    const all = () => [...this.objects.values()].filter((o) => o.kind === type.kind || (type.kind === "ControllerRevision" && (o as ControllerRevision).revision !== undefined));
    return {
      type,
      get: (_ns, name) => {
        const o = this.objects.get(this.key(type.kind, name));
        return o ? slimChild({ ...o, kind: type.kind }) : undefined;
      },
      getByKey: () => undefined,
      list: all,
      size: () => all().length,
      hasSynced: () => true,
      waitForSync: async () => {},
      onChange: () => () => {},
    };
  }
  revisions(): ControllerRevision[] {
    return [...this.objects.entries()].filter(([k]) => k.startsWith("ControllerRevision/")).map(([, o]) => o as ControllerRevision);
  }
}

function setup() {
  const fake = new FakeCluster();
  const config = loadConfig(["--required-reviews=security"], {});
  const reconciler = new McpServerReconciler({
    client: fake,
    config,
    cache: (type) => fake.cache(type),
    revisions: () => fake.revisions(),
    events: { record: () => {} } as never,
    verify: async () => ({ outcome: "Unreachable", message: "no route" }),
    requeue: () => {},
  });
  return { fake, reconciler };
}

const { object } = sampleServer();
const server = (spec: unknown, status?: McpServerStatus): McpServerObject => ({ ...object, spec, ...(status ? { status } : {}) });
const approved = (spec: Record<string, unknown>, hash: string) => ({ ...spec, review: { security: { decision: "Approved", reviewer: "sam", specHash: hash } } });
const run = (r: McpServerReconciler, o: McpServerObject) => r.reconcile({ key: "data-platform/presto", namespace: "data-platform", name: "presto", object: o, log: silentLogger });

describe("the reconciler (fake client)", () => {
  it("writes only a status for a server never approved", async () => {
    const { fake, reconciler } = setup();
    await run(reconciler, server(object.spec));
    expect(fake.writes.map((w) => w.verb)).toEqual(["status"]);
    expect(fake.status!.phase).toBe("PendingReview");
  });

  it("on approval records the revision first, then creates the children (the Deployment after what it mounts), then the status", async () => {
    const { fake, reconciler } = setup();
    const spec = object.spec as Record<string, unknown>;
    const hash = specHash(sampleServer().spec);
    await run(reconciler, server(approved(spec, hash)));
    expect(fake.writes.map((w) => `${w.verb} ${w.kind}`)).toEqual([
      "create ControllerRevision",
      "create ServiceAccount",
      "create ConfigMap",
      "create Deployment",
      "create Service",
      "create NetworkPolicy",
    ]);
    // Children just written: the status waits for their events (one write less).
    fake.writes.length = 0;
    await run(reconciler, server(approved(spec, hash)));
    expect(fake.writes.map((w) => w.verb)).toEqual(["status"]);
    expect(fake.status!.served!.specHash).toBe(hash);
  });

  it("replaces a Deployment someone scaled, and nothing else", async () => {
    const { fake, reconciler } = setup();
    const spec = object.spec as Record<string, unknown>;
    const hash = specHash(sampleServer().spec);
    await run(reconciler, server(approved(spec, hash)));
    await run(reconciler, server(approved(spec, hash)));
    const d = fake.objects.get("Deployment/presto") as KubeObject & { spec: { replicas: number } };
    fake.objects.set("Deployment/presto", { ...d, spec: { ...d.spec, replicas: 9 } } as KubeObject);
    fake.writes.length = 0;
    await run(reconciler, server(approved(spec, hash), fake.status));
    expect(fake.writes.map((w) => `${w.verb} ${w.kind}`)).toEqual(["replace Deployment"]);
    expect((fake.writes[0]!.body as unknown as { spec: { replicas: number } }).spec.replicas).toBe(2);
    expect(fake.writes[0]!.body!.metadata.uid).toBe(d.metadata.uid);
  });

  it("writes nothing at all next to an object it does not own, and says so", async () => {
    const { fake, reconciler } = setup();
    fake.objects.set("Service/presto", { apiVersion: "v1", kind: "Service", metadata: { name: "presto", namespace: "data-platform", uid: "theirs" } });
    const spec = object.spec as Record<string, unknown>;
    await run(reconciler, server(approved(spec, specHash(sampleServer().spec))));
    expect(fake.writes.map((w) => `${w.verb} ${w.kind}`)).toEqual(["create ControllerRevision", "status McpServer"]);
    expect(fake.status!.conditions!.find((c) => c.type === "ChildConflict")).toMatchObject({ status: "True" });
    expect(fake.objects.get("Service/presto")!.metadata.uid).toBe("theirs");
  });

  it("removes the finalizer an earlier version added", async () => {
    const { fake, reconciler } = setup();
    await run(reconciler, { ...server(object.spec), metadata: { ...object.metadata, finalizers: ["toolfleet.dev/cleanup"] } });
    expect(fake.writes[0]!.verb).toBe("unfinalize");
  });
});
