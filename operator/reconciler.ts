/**
 * The McpServer reconciler: from the cached McpServer and its cached children, compute the
 * review verdict, the children, the verification and the status, and server-side-apply
 * whatever differs — nothing at all when nothing differs. Deletion runs the finalizer.
 */
import { McpServerSpec, type McpServerStatus } from "../crds/index.js";
import {
  addFinalizer,
  canonicalEqual,
  conditionTransitions,
  controllerOf,
  finalizerState,
  nowTime,
  removeFinalizer,
  TerminalError,
  type Action,
  type Condition,
  type EventRecorder,
  type KubeClient,
  type KubeObject,
  type ObjectCache,
  type ReconcileRequest,
  type ResourceType,
} from "../runtime/index.js";
import { appliedHash, CHILD_TYPES, childNameFor, desiredChildren, type DesiredChild } from "./children.js";
import type { OperatorConfig } from "./config.js";
import { McpServerType, type McpServerObject } from "../mcpserver/type.js";
import { APPLIED_HASH_ANNOTATION, FIELD_MANAGER, FINALIZER, registryName, serverUrl } from "../mcpserver/names.js";
import { evaluateReview } from "./review-gate.js";
import { specHash } from "./spec-hash.js";
import { computeStatus, type WorkloadObservation } from "./status.js";
import { verifyTools, type VerificationResult, type VerifyOptions } from "./tool-verification.js";
import type { TokenSource } from "./verifier-token.js";
import { retryAfterMs, Verifications } from "./verifications.js";

export interface ReconcilerDeps {
  client: KubeClient;
  config: OperatorConfig;
  /** The cache of each child type (the controller's informers). */
  cache: (type: ResourceType) => ObjectCache<KubeObject>;
  events: EventRecorder;
  tokens?: TokenSource;
  /** Replaceable in tests. */
  verify?: (options: VerifyOptions) => Promise<VerificationResult>;
  /** Queues a key for a reconcile (when its verification settles). */
  requeue: (key: string) => void;
}

interface Deployment extends KubeObject {
  spec?: { replicas?: number };
  status?: { readyReplicas?: number; observedGeneration?: number };
}

/** How long a new Deployment may take before its server's status says Deploying. */
const DEPLOYING_DEBOUNCE_MS = 5_000;

export class McpServerReconciler {
  private readonly verifications: Verifications;

  constructor(private readonly deps: ReconcilerDeps) {
    this.verifications = new Verifications({ intervalMs: deps.config.verifier.intervalMs, concurrency: deps.config.verifier.concurrency, settled: deps.requeue });
  }

  readonly reconcile = async ({ key, object, log }: ReconcileRequest<McpServerObject>): Promise<Action | void> => {
    if (!object) {
      this.verifications.forget(key);
      return;
    }
    const { client, config } = this.deps;
    const state = finalizerState(object, FINALIZER);
    if (state === "deleting-without-finalizer") return;
    if (state === "deleting-with-finalizer") return this.cleanUp(key, object, log);

    const parsed = McpServerSpec.safeParse(object.spec);
    if (!parsed.success) {
      throw new TerminalError(`spec does not match the McpServer schema (${parsed.error.issues.map((i) => `spec.${i.path.join(".")}: ${i.message}`).join("; ")}): fix the manifest`);
    }
    const spec = parsed.data;
    if (state === "absent") await addFinalizer(client, McpServerType, object, FINALIZER);

    const hash = specHash(spec);
    const verdict = evaluateReview(spec, hash, config);
    const url = serverUrl(object, spec, config.clusterDomain);
    const name = registryName(config.registryPrefix, object.metadata.namespace, object.metadata.name);

    let workload: WorkloadObservation | undefined;
    let deploymentAgeMs: number | undefined;
    let children: DesiredChild[] = [];
    if (spec.workload) {
      const desiredReplicas = verdict.approved ? spec.workload.replicas : 0;
      children = desiredChildren(object, spec, desiredReplicas, {
        registryPrefix: config.registryPrefix,
        clusterDomain: config.clusterDomain,
        ingressNamespaces: config.ingressNamespaces,
        verifierServiceAccount: config.verifier.serviceAccount,
      });
      const deployment = this.deps.cache(CHILD_TYPES[2]!).get(object.metadata.namespace, object.metadata.name) as Deployment | undefined;
      if (deployment?.metadata.creationTimestamp) deploymentAgeMs = Date.now() - Date.parse(deployment.metadata.creationTimestamp);
      // Pods of a previous, approved spec may still be up while scaling down: they do not count.
      const readyReplicas = desiredReplicas === 0 ? 0 : (deployment?.status?.readyReplicas ?? 0);
      workload = { desiredReplicas, readyReplicas };
    }

    const verifiable = spec.remote !== undefined || (workload !== undefined && verdict.approved && workload.readyReplicas > 0);
    const verification = verifiable ? this.verification(key, object, spec, url, hash) : undefined;
    if (!verifiable) this.verifications.forget(key);
    // Verifiable but never verified for this spec: the status waits for the verdict (it decides
    // Published), which queues the key again when it comes.
    const awaitingVerification = verifiable && verification === undefined;

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
    });

    // Leaving the registry comes first: an unapproved spec must not be served a moment longer.
    const unpublishing = object.status?.registry?.published === true && status.registry?.published !== true;
    if (unpublishing) await this.writeStatus(object, status, log);
    let applied = 0;
    for (const child of children) applied += (await this.ensure(child)) ? 1 : 0;
    if (!spec.workload) await this.deleteChildren(object, true);
    if (!unpublishing) {
      // Children just written will change what the status says (their events bring us back);
      // writing it now would be a write that is stale at once. A short requeue makes sure we
      // come back even if an apply changed nothing the watch would report.
      if (applied > 0) return { requeueAfterMs: 1_000 };
      // The settled verification queues the key; the requeue is a safety net only.
      if (awaitingVerification) return { requeueAfterMs: 2 * config.verifier.timeoutMs + 1_000 };
      // A brand-new Deployment's first seconds are not news: when its pods come up quickly,
      // one status write (Published) replaces two (Deploying, then Published) — 1 of 8 writes
      // per server in a fleet rollout. A rollout that takes longer shows Deploying after DEBOUNCE_MS.
      if (status.phase === "Deploying" && object.status?.phase !== "Deploying" && deploymentAgeMs !== undefined && deploymentAgeMs < DEPLOYING_DEBOUNCE_MS) {
        return { requeueAfterMs: Math.min(1_000, DEPLOYING_DEBOUNCE_MS - deploymentAgeMs) };
      }
      await this.writeStatus(object, status, log);
    }

    if (!verification) return;
    return { requeueAfterMs: retryAfterMs(verification, config.verifier.intervalMs) };
  };

  /** Applies a child unless the cached one carries the hash of exactly what we would apply; true if it applied. */
  private async ensure(child: DesiredChild): Promise<boolean> {
    const live = this.deps.cache(child.type).get(child.object.metadata.namespace, child.object.metadata.name);
    if (live && !live.metadata.deletionTimestamp && live.metadata.annotations?.[APPLIED_HASH_ANNOTATION] === appliedHash(child)) return false;
    await this.deps.client.apply(child.type, child.object, { fieldManager: FIELD_MANAGER, force: true });
    return true;
  }

  private async writeStatus(object: McpServerObject, status: McpServerStatus, log: ReconcileRequest<McpServerObject>["log"]): Promise<void> {
    if (canonicalEqual(status, object.status ?? {})) return;
    await this.deps.client.apply(
      McpServerType,
      { metadata: { name: object.metadata.name, namespace: object.metadata.namespace }, status } as KubeObject,
      { fieldManager: FIELD_MANAGER, force: true, subresource: "status" },
    );
    const transitions = conditionTransitions(object.status?.conditions as Condition[] | undefined, status.conditions as Condition[]);
    for (const { from, to } of transitions) {
      if (to.type === "Ready") continue; // the sum of the others: an event of its own would only repeat them
      // Warnings are for what someone must act on: a rejection, an unpinned image, a tools
      // mismatch, or anything that was True and no longer is.
      const warning =
        (to.type === "ToolsVerified" && to.status === "False") ||
        (to.type === "Reviewed" && (to.reason === "Rejected" || to.reason === "ImageNotPinned")) ||
        (from?.status === "True" && to.status !== "True");
      this.deps.events.record(McpServerType, object, warning ? "Warning" : "Normal", to.reason, `${to.type}=${to.status}: ${to.message}`);
    }
    if (transitions.length > 0) log.info("status changed", { phase: status.phase, changed: transitions.map((t) => `${t.to.type}=${t.to.status}/${t.to.reason}`) });
  }

  /** The server's verification result, if there is one yet (see Verifications). */
  private verification(key: string, object: McpServerObject, spec: McpServerSpec, url: string, hash: string): VerificationResult | undefined {
    const { timeoutMs, audience } = this.deps.config.verifier;
    const tokens = this.deps.tokens;
    return this.verifications.get(key, `${object.metadata.uid}|${url}|${hash}`, () =>
      (this.deps.verify ?? verifyTools)({
        url,
        declared: spec.tools.map((t) => t.name),
        token: tokens ? () => tokens.tokenFor(audience ?? url) : undefined,
        timeoutMs,
      }),
    );
  }

  /** Deletes the children this server controls; `onlyIfCached` for the remote case, where there usually are none. */
  private async deleteChildren(object: McpServerObject, onlyIfCached: boolean): Promise<void> {
    for (const type of CHILD_TYPES) {
      const childName = childNameFor(type, object.metadata.name);
      const live = this.deps.cache(type).get(object.metadata.namespace, childName);
      if (onlyIfCached) {
        if (!live || live.metadata.deletionTimestamp) continue;
        if (controllerOf(live, McpServerType)?.uid !== object.metadata.uid) continue;
      } else if (live && controllerOf(live, McpServerType)?.uid !== object.metadata.uid) continue; // not ours: leave it
      await this.deps.client.delete(type, object.metadata.namespace, childName);
    }
  }

  /** The finalizer: unpublish, delete what garbage collection would leave behind, let go. */
  private async cleanUp(key: string, object: McpServerObject, log: ReconcileRequest<McpServerObject>["log"]): Promise<void> {
    const previous = object.status;
    if (previous?.registry?.published) {
      const conditions = (previous.conditions ?? []).map((c) =>
        c.type === "Published" || c.type === "Ready" ? { ...c, status: "False" as const, reason: "Deleting", message: "the McpServer is being deleted", lastTransitionTime: nowTime() } : c,
      );
      await this.writeStatus(object, { ...previous, phase: "Unpublished", registry: { ...previous.registry, published: false }, conditions }, log);
    }
    await this.deleteChildren(object, false);
    await removeFinalizer(this.deps.client, McpServerType, object, FINALIZER);
    this.verifications.forget(key);
    log.info("cleaned up and released the finalizer");
  }
}
