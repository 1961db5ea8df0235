/**
 * The McpServer reconciler: observe (the cached McpServer, its revisions and children), decide
 * (operator/decide.ts, pure), act (record an approved revision, write the children that differ
 * or drifted, delete what this server no longer runs, write the status) — nothing at all when
 * nothing differs. Children carry owner references, so garbage collection removes them with
 * their McpServer; no finalizer is needed (one an earlier version added is removed).
 */
import { McpServerSpec, type McpServerStatus } from "../crds/index.js";
import {
  conditionTransitions,
  CoreTypes,
  nowTime,
  TerminalError,
  type Action,
  type Condition,
  type EventRecorder,
  type KubeObject,
  type ObjectCache,
  type ReconcileRequest,
  type ResourceType,
} from "../runtime/index.js";
import { canonicalEqual } from "../common/canonical-json.js";
import { CHILDREN, runsPods, slimChild, viewHash, type DesiredChild, type SlimChild } from "./children.js";
import { childrenConfig, type OperatorConfig } from "./config.js";
import { decide, type Plan } from "./decide.js";
import { McpServerType, type McpServerObject } from "../mcpserver/type.js";
import { childNames, FINALIZER, registryName, serverUrl } from "../mcpserver/names.js";
import type { ReconcilerClient } from "./reconciler-client.js";
import { evaluateReview } from "./review-gate.js";
import { ControllerRevisionType, revisionObject, type ControllerRevision } from "./revisions.js";
import { specHash } from "./spec-hash.js";
import { computeStatus, type WorkloadObservation } from "./status.js";
import { verifyTools, type VerificationResult, type VerifyOptions } from "./tool-verification.js";
import { pinTools } from "./tool-pin.js";
import type { TokenSource } from "./verifier-token.js";
import { guardedLookup, ownServiceResolver, type TargetPolicy } from "./verification-target.js";
import { Verifications } from "./verifications.js";
import { RecentCreates } from "./recent-creates.js";

export interface ReconcilerDeps {
  client: ReconcilerClient;
  config: OperatorConfig;
  /** The cache of each child type (the controller's informers). */
  cache: (type: ResourceType) => ObjectCache<KubeObject>;
  /** A server's ControllerRevisions, oldest first. */
  revisions: (uid: string | undefined) => ControllerRevision[];
  events: EventRecorder;
  tokens?: TokenSource;
  /** Where verification may go; unset only in unit tests. */
  targetPolicy?: TargetPolicy;
  /** Replaceable in tests. */
  verify?: (options: VerifyOptions) => Promise<VerificationResult>;
  /** Queues a key for a reconcile (when its verification settles). */
  requeue: (key: string) => void;
}

interface Deployment extends KubeObject {
  status?: { readyReplicas?: number; updatedReplicas?: number; observedGeneration?: number };
}

/** How long a new Deployment may take before its server's status says Deploying. */
const DEPLOYING_DEBOUNCE_MS = 5_000;

export class McpServerReconciler {
  private readonly verifications: Verifications;
  /** uid → the applied hash and view hash of what the API server gave back for our last write. */
  private readonly written = new Map<string, { applied: string; view: string }>();
  /** key → each tool's definition digest as pinned in this process (names what drifted; after a restart, the digest does). */
  private readonly pinned = new Map<string, { specHash: string; byTool: Record<string, string> }>();
  /** Children created here that the cache may not show yet: not created twice. */
  private readonly created = new RecentCreates();

  constructor(private readonly deps: ReconcilerDeps) {
    this.verifications = new Verifications({ intervalMs: deps.config.verifier.intervalMs, concurrency: deps.config.verifier.concurrency, settled: deps.requeue });
  }

  readonly reconcile = async ({ key, object, log }: ReconcileRequest<McpServerObject>): Promise<Action | void> => {
    if (!object) {
      this.verifications.forget(key);
      this.pinned.delete(key);
      const [ns, name] = key.split("/");
      this.created.forget(ns!, CHILDREN.map((k) => k.name(name!)));
      return;
    }
    const { client, config } = this.deps;
    if (object.metadata.finalizers?.includes(FINALIZER)) await client.removeFinalizer(object, FINALIZER);
    if (object.metadata.deletionTimestamp) return;

    const parsed = McpServerSpec.safeParse(object.spec);
    if (!parsed.success) {
      throw new TerminalError(`spec does not match the McpServer schema (${parsed.error.issues.map((i) => `spec.${i.path.join(".")}: ${i.message}`).join("; ")}): fix the manifest`);
    }
    const spec = parsed.data;
    const hash = specHash(spec);
    const verdict = evaluateReview(spec, hash, config);
    const childrenSettings = childrenConfig(config);
    let unseen = false;
    const plan = decide({
      object,
      spec,
      specHash: hash,
      verdict,
      revisions: this.deps.revisions(object.metadata.uid),
      live: (kind, name) => {
        const ns = object.metadata.namespace;
        const found = this.created.resolve(kind.type.kind, ns, name, this.deps.cache(kind.type).get(ns, name) as SlimChild | undefined);
        unseen ||= found.unseen;
        return found.object;
      },
      writtenView: (uid, applied) => {
        const w = this.written.get(uid);
        return w?.applied === applied ? w.view : undefined;
      },
      children: childrenSettings,
    });

    await this.recordRevision(object, plan);

    const servedSpec = plan.served?.spec;
    const url = serverUrl(object, servedSpec ?? spec, config.clusterDomain);
    const name = registryName(config.registryPrefix, object.metadata.namespace, object.metadata.name);

    let workload: WorkloadObservation | undefined;
    let deploymentAgeMs: number | undefined;
    let rolledOut = false;
    const runsWorkload = (servedSpec ?? spec).workload !== undefined;
    if (runsWorkload) {
      const deployment = this.deps.cache(CoreTypes.Deployment).get(object.metadata.namespace, object.metadata.name) as Deployment | undefined;
      const ours = deployment && !plan.conflicts.some((c) => c.startsWith("Deployment "));
      if (ours && deployment?.metadata.creationTimestamp) deploymentAgeMs = Date.now() - Date.parse(deployment.metadata.creationTimestamp);
      // Pods of a rejected or never-approved spec may still be up while scaling down: they do not count.
      const readyReplicas = plan.replicas === 0 || !ours ? 0 : (deployment?.status?.readyReplicas ?? 0);
      // Rolled out: every pod runs the served revision, so a verification sees its tools, not the previous one's.
      const s = deployment?.status;
      rolledOut = ours === true && (s?.observedGeneration ?? 0) >= (deployment?.metadata.generation ?? 1) && (s?.updatedReplicas ?? 0) >= plan.replicas;
      workload = { desiredReplicas: plan.replicas, readyReplicas };
    }

    const verifiable = plan.served !== undefined && plan.conflicts.length === 0 && (servedSpec!.remote !== undefined || (workload !== undefined && workload.readyReplicas > 0 && rolledOut));
    const verification = verifiable ? this.verification(key, object, plan, url) : undefined;
    if (!verifiable) this.verifications.forget(key);
    const awaitingVerification = verifiable && verification === undefined;
    const toolPin = plan.served && plan.approved ? this.pin(key, object, plan.approved.specHash, verification) : undefined;

    const status = computeStatus({
      generation: object.metadata.generation,
      previous: object.status,
      spec,
      specHash: hash,
      verdict,
      url,
      registryName: name,
      workload,
      verification,
      now: nowTime(),
      ...(plan.approved ? { approved: plan.approved } : {}),
      ...(plan.served ? { served: plan.served } : {}),
      rejected: plan.rejected,
      ...(plan.pending ? { pending: plan.pending } : {}),
      conflicts: plan.conflicts,
      ...(toolPin ? { toolPin } : {}),
    });

    // Leaving the registry, or serving less (a narrowing, a rejection), comes first: what is no
    // longer approved must not be served a moment longer.
    const previousServed = object.status?.served;
    // A newly approved revision of a published server is being verified: the previous approved
    // revision keeps serving (its status stays as it is) until the verdict comes, rather than
    // leaving the registry for the length of a handshake. A rejection is never held back.
    const verifyingNewRevision =
      awaitingVerification && object.status?.registry?.published === true && !plan.rejected && previousServed !== undefined && plan.served !== undefined && plan.served.revision !== previousServed.revision;
    const unpublishing = object.status?.registry?.published === true && status.registry?.published !== true && !verifyingNewRevision;
    const narrowing = previousServed !== undefined && !canonicalEqual(previousServed, status.served ?? null) && plan.served?.revision === previousServed.revision;
    const statusFirst = unpublishing || narrowing;
    if (statusFirst) await this.writeStatus(object, status, log);
    // What the pods mount, run as and are fenced by, all at once; then what runs them. One round
    // trip for each, not one per child: a reconcile's time is mostly waiting for the API server.
    const wave = (writes: Plan["writes"]) => Promise.all(writes.map((w) => this.write(w.child, w.action, w.live, log, w.reason)));
    let applied = (await wave(plan.writes.filter((w) => !runsPods(w.child.kind)))).filter(Boolean).length;
    applied += (await wave(plan.writes.filter((w) => runsPods(w.child.kind)))).filter(Boolean).length;
    for (const d of plan.deletes) await client.deleteIfUid(d.kind.type, object.metadata.namespace, d.name, d.uid);
    for (const r of plan.prune) if (r.metadata.uid) await client.deleteIfUid(ControllerRevisionType, object.metadata.namespace, r.metadata.name, r.metadata.uid);
    if (!statusFirst) {
      // Children just written will change what the status says (their events bring us back);
      // writing it now would be a write that is stale at once. A short requeue makes sure we
      // come back even if a write changed nothing the watch would report.
      // A child created here that the watch has not shown yet counts as written: come back to it.
      if (applied > 0 || plan.waiting || unseen) return { requeueAfterMs: 1_000 };
      // The settled verification queues the key; the requeue is a safety net only.
      if (awaitingVerification) return { requeueAfterMs: 2 * config.verifier.timeoutMs + 1_000 };
      // A brand-new Deployment's first seconds are not news: when its pods come up quickly,
      // one status write (Published) replaces two (Deploying, then Published).
      if (status.phase === "Deploying" && object.status?.phase !== "Deploying" && deploymentAgeMs !== undefined && deploymentAgeMs < DEPLOYING_DEBOUNCE_MS) {
        return { requeueAfterMs: Math.min(1_000, DEPLOYING_DEBOUNCE_MS - deploymentAgeMs) };
      }
      await this.writeStatus(object, status, log);
    } else if (applied > 0) return { requeueAfterMs: 1_000 };

    if (!verification) return;
    return { requeueAfterMs: this.verifications.retryAfterMs(key) ?? config.verifier.intervalMs };
  };

  /** Records a newly approved spec as a ControllerRevision (or makes an older identical one the latest again). */
  private async recordRevision(object: McpServerObject, plan: Plan): Promise<void> {
    const r = plan.record;
    if (!r) return;
    const ns = object.metadata.namespace;
    if (r.existing) {
      await this.deps.client.setRevisionNumber(ns, r.name, r.revision);
      return;
    }
    const created = await this.deps.client.create(ControllerRevisionType, revisionObject(object, r.revision, r.specHash, r.spec));
    if (created) return;
    // The name is taken: ours (the cache has not seen it yet) is fine; anyone else's is refused.
    const live = await this.deps.client.get(ControllerRevisionType, ns, r.name);
    const owner = live?.metadata.ownerReferences?.find((o) => o.controller === true && o.kind === McpServerType.kind);
    if (owner?.uid !== object.metadata.uid) throw new TerminalError(`ControllerRevision ${ns}/${r.name} exists and is not this server's: remove it so the approved revision can be recorded`);
  }

  /** Creates or replaces a child; true if it wrote. */
  private async write(child: DesiredChild, action: "create" | "replace", live: SlimChild | undefined, log: ReconcileRequest<McpServerObject>["log"], reason: string): Promise<boolean> {
    const { client } = this.deps;
    let result: KubeObject | undefined;
    if (action === "create") {
      result = await client.create(child.type, child.object);
      // Taken meanwhile (the cache will show by whom): the next reconcile decides.
      if (!result) return true;
      this.created.add(child.type.kind, slimChild(result));
    } else {
      if (reason === "drifted") log.info("reverting a child changed by someone else", { kind: child.type.kind, name: child.object.metadata.name });
      const body = { ...child.object, metadata: { ...child.object.metadata, uid: live?.metadata.uid, resourceVersion: live?.metadata.resourceVersion } };
      result = await client.replace(child.type, body);
    }
    if (result.metadata.uid) this.written.set(result.metadata.uid, { applied: child.appliedHash, view: viewHash(child.kind, result as KubeObject & Record<string, unknown>) });
    return true;
  }

  private async writeStatus(object: McpServerObject, status: McpServerStatus, log: ReconcileRequest<McpServerObject>["log"]): Promise<void> {
    if (canonicalEqual(status, object.status ?? {})) return;
    await this.deps.client.applyStatus(object, status);
    const transitions = conditionTransitions(object.status?.conditions as Condition[] | undefined, status.conditions as Condition[]);
    for (const { from, to } of transitions) {
      if (to.type === "Ready") continue; // the sum of the others: an event of its own would only repeat them
      // Warnings are for what someone must act on: a rejection, an unpinned image, a tools
      // mismatch, a conflict, or anything that was True and no longer is.
      const warning =
        (to.type === "ToolsVerified" && to.status === "False") ||
        (to.type === "Reviewed" && (to.reason === "Rejected" || to.reason === "ImageNotPinned")) ||
        (to.type === "ChildConflict" && to.status === "True") ||
        (from?.status === "True" && to.status !== "True" && to.type !== "ChangePendingReview" && to.type !== "ChildConflict");
      this.deps.events.record(McpServerType, object, warning ? "Warning" : "Normal", to.reason, `${to.type}=${to.status}: ${to.message}`);
    }
    if (transitions.length > 0) log.info("status changed", { phase: status.phase, changed: transitions.map((t) => `${t.to.type}=${t.to.status}/${t.to.reason}`) });
  }

  private pin(key: string, object: McpServerObject, approvedHash: string, verification: VerificationResult | undefined) {
    const known = this.pinned.get(key);
    const pin = pinTools(object.status?.toolDefinitions, approvedHash, verification, nowTime(), known?.specHash === approvedHash ? known.byTool : undefined);
    if (pin && !pin.changed && verification?.definitions && pin.digest === verification.definitions.digest && known?.specHash !== approvedHash) {
      this.pinned.set(key, { specHash: approvedHash, byTool: verification.definitions.byTool });
    }
    return pin;
  }

  /** How verification resolves `spec`'s URL: a workload's own Service name to its cluster IP, anything else through DNS. */
  private resolver(object: McpServerObject, spec: McpServerSpec): ((host: string) => Promise<string[]>) | undefined {
    if (!spec.workload) return undefined;
    const { namespace, uid } = object.metadata;
    const name = childNames(object.metadata.name).service;
    const clusterIP = () => {
      const service = this.deps.cache(CoreTypes.Service).get(namespace, name) as (SlimChild & { spec?: { clusterIP?: string } }) | undefined;
      const ours = service?.metadata.ownerReferences?.some((r) => r.controller === true && r.uid === uid);
      return ours ? service?.spec?.clusterIP : undefined;
    };
    return ownServiceResolver({ name, namespace, clusterDomain: this.deps.config.clusterDomain, clusterIP });
  }

  /** The server's verification result, if there is one yet (see Verifications). */
  private verification(key: string, object: McpServerObject, plan: Plan, url: string): VerificationResult | undefined {
    const { timeoutMs } = this.deps.config.verifier;
    const tokens = this.deps.tokens;
    const served = plan.served!;
    return this.verifications.get(key, `${object.metadata.uid}|${url}|${served.specHash}`, () =>
      (this.deps.verify ?? verifyTools)({
        url,
        declared: served.spec.tools,
        token: tokens ? () => tokens.tokenFor(url) : undefined,
        timeoutMs,
        ...(this.deps.targetPolicy ? { lookup: guardedLookup(url, this.deps.targetPolicy, this.resolver(object, served.spec)) } : {}),
      }),
    );
  }
}
