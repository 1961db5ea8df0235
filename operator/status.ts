/**
 * The McpServer's status from what the reconciler observed and decided: the review verdict of
 * the current spec, the revision that serves, a change waiting for review, conflicts, workload
 * readiness and tool verification, as conditions with stable reasons, a phase, and what the
 * registry serves (status.served: approved content only). Pure, so every rule is a unit test.
 */
import type { McpServerSpec, McpServerStatus } from "../crds/index.js";
import { setConditions, type Condition, type DesiredCondition } from "../runtime/index.js";
import type { Served } from "./decide.js";
import type { ApprovedRevision } from "./revisions.js";
import type { ReviewVerdict } from "./review-gate.js";
import type { FieldChange } from "./spec-diff.js";
import { compareTools, type VerificationResult } from "./tool-verification.js";

export interface WorkloadObservation {
  /** Replicas the Deployment is asked to run (0 until approved). */
  desiredReplicas: number;
  readyReplicas: number;
}

export interface ToolPin {
  specHash: string;
  digest: string;
  pinnedAt: string;
  /** Tools whose definition differs from the pinned ones. */
  changed?: string[];
}

export interface StatusInputs {
  generation: number | undefined;
  previous: McpServerStatus | undefined;
  spec: McpServerSpec;
  specHash: string;
  verdict: ReviewVerdict;
  url: string;
  registryName: string;
  /** Set for workload servers. */
  workload?: WorkloadObservation;
  /** The last verification, if one applies (Available workload, or any remote server). */
  verification?: VerificationResult;
  now: string;
  /** The latest approved revision. */
  approved?: ApprovedRevision;
  /** What runs and is served; undefined: nothing is (never approved, or rejected). */
  served?: Served;
  rejected?: boolean;
  /** The reviewed fields a change awaiting review alters. */
  pending?: FieldChange[];
  /** Objects in the way of a child's name. */
  conflicts?: string[];
  toolPin?: ToolPin;
}

type Status = "True" | "False" | "Unknown";
const cond = (type: string, status: Status, reason: string, message: string, generation: number | undefined): DesiredCondition => ({
  type,
  status,
  reason,
  message,
  ...(generation !== undefined ? { observedGeneration: generation } : {}),
});

const listed = (xs: readonly string[], max = 8) => (xs.length > max ? `${xs.slice(0, max).join(", ")} and ${xs.length - max} more` : xs.join(", "));

export function computeStatus(i: StatusInputs): McpServerStatus {
  const g = i.generation;
  const v = i.verification;
  const served = i.served;
  const conflicts = i.conflicts ?? [];
  const reviewed = cond("Reviewed", i.verdict.approved ? "True" : "False", i.verdict.reason, i.verdict.message, g);
  const notServed = i.rejected ? "a reviewer rejected it" : "no spec of it has been approved yet";

  let available: DesiredCondition;
  if (i.workload) {
    const { desiredReplicas, readyReplicas } = i.workload;
    if (!served) available = cond("Available", "False", i.rejected ? "Rejected" : "AwaitingReview", `runs 0 replicas: ${notServed}`, g);
    else if (desiredReplicas === 0) available = cond("Available", "False", "ScaledToZero", "spec.workload.replicas is 0", g);
    else if (readyReplicas > 0) available = cond("Available", "True", "MinimumReplicasReady", `${readyReplicas}/${desiredReplicas} replicas ready`, g);
    else available = cond("Available", "False", "ReplicasNotReady", `0/${desiredReplicas} replicas ready`, g);
  } else if (!served) available = cond("Available", "Unknown", "NotChecked", `not contacted: ${notServed}`, g);
  else if (!v) available = cond("Available", "Unknown", "NotChecked", "the remote server has not been contacted yet", g);
  else if (v.outcome === "Unreachable" || v.outcome === "TargetRefused") available = cond("Available", "False", v.outcome, v.message, g);
  else available = cond("Available", "True", "Reachable", `reached ${i.url}`, g);

  const drift = i.toolPin?.changed && i.toolPin.changed.length > 0 ? i.toolPin.changed : undefined;
  let tools: DesiredCondition;
  if (available.status !== "True") tools = cond("ToolsVerified", "Unknown", "NotAvailable", "tools are verified once the server is available", g);
  else if (!v) tools = cond("ToolsVerified", "Unknown", "NotChecked", "not verified yet", g);
  else if (drift && v.outcome === "Verified") {
    tools = cond("ToolsVerified", "False", "ToolDefinitionsChanged", `the server's tool definitions changed since they were verified for this revision: ${listed(drift)}; the way back is a new reviewed revision`, g);
  } else {
    const reason = { Verified: "ToolsMatch", Mismatch: "ToolsMismatch", Unreachable: "Unreachable", Unauthorized: "VerifierUnauthorized", HandshakeFailed: "HandshakeFailed", TargetRefused: "TargetRefused" }[v.outcome];
    const status: Status = v.outcome === "Verified" ? "True" : v.outcome === "Mismatch" ? "False" : "Unknown";
    tools = cond("ToolsVerified", status, reason, v.message, g);
  }

  const conflict =
    conflicts.length > 0
      ? cond("ChildConflict", "True", "ChildConflict", `${listed(conflicts)} already exists and is not this server's: nothing is written or deployed until it is renamed or removed`, g)
      : cond("ChildConflict", "False", "NoConflict", "every child is this server's own", g);
  const pendingPaths = (i.pending ?? []).map((c) => c.path);
  const changePending =
    pendingPaths.length > 0
      ? cond("ChangePendingReview", "True", "ChangePendingReview", `${listed(pendingPaths)} changed and wait for review; ${served ? `revision ${served.revision} keeps serving${served.narrowed ? " (narrowed at once)" : ""}` : "nothing serves meanwhile"}`, g)
      : cond("ChangePendingReview", "False", "NoPendingChange", "the current spec is the approved one", g);

  const isPublished = served !== undefined && conflicts.length === 0 && available.status === "True" && tools.status !== "False";
  const published = isPublished
    ? cond("Published", "True", "Published", `served by the registry as ${i.registryName} (revision ${served!.revision})`, g)
    : !served
      ? cond("Published", "False", i.rejected ? "Rejected" : "NotReviewed", `not served: ${notServed}`, g)
      : conflicts.length > 0
        ? cond("Published", "False", "ChildConflict", "not served: a child's name is taken by another object", g)
        : available.status !== "True"
          ? cond("Published", "False", "NotAvailable", "not served: the server is not available", g)
          : tools.reason === "ToolDefinitionsChanged"
            ? cond("Published", "False", "ToolDefinitionsChanged", "not served: the server's tool definitions changed after review", g)
            : cond("Published", "False", "ToolsMismatch", "not served: the server's tools differ from the reviewed ones", g);

  const allReplicas = !i.workload || i.workload.readyReplicas >= i.workload.desiredReplicas;
  const ready = !isPublished
    ? cond("Ready", "False", "NotPublished", published.message, g)
    : allReplicas
      ? cond("Ready", "True", "Ready", "published and fully rolled out", g)
      : cond("Ready", "False", "ReplicasNotReady", `${i.workload!.readyReplicas}/${i.workload!.desiredReplicas} replicas ready`, g);

  const conditions = setConditions(i.previous?.conditions as Condition[] | undefined, [reviewed, available, tools, published, ready, changePending, conflict], i.now);

  const wasPublished = i.previous?.registry?.published === true;
  const publishedAt = isPublished ? (wasPublished ? i.previous?.registry?.publishedAt ?? i.now : i.now) : i.previous?.registry?.publishedAt;

  let phase: NonNullable<McpServerStatus["phase"]>;
  if (i.rejected) phase = "Rejected";
  else if (!served) phase = i.previous?.registry?.publishedAt ? "Unpublished" : "PendingReview";
  else if (isPublished) phase = "Published";
  else if (conflicts.length > 0 || tools.status === "False" || (!i.workload && available.status === "False")) phase = "Degraded";
  else if (available.status !== "True") phase = "Deploying";
  else phase = "Verifying";

  // The last handshake's tools and serverInfo stay until the next handshake, re-marked against
  // the served declaration.
  const declared = (served?.spec ?? i.spec).tools.map((t) => t.name);
  const discovered = v?.tools ? v.tools.filter((t) => t.discovered).map((t) => t.name) : i.previous?.tools?.filter((t) => t.discovered).map((t) => t.name);
  const serverInfo = v?.serverInfo ?? i.previous?.serverInfo;

  const status: McpServerStatus = {
    observedGeneration: g,
    phase,
    url: i.url,
    specHash: i.specHash,
    review: {
      approved: i.verdict.approved,
      ...(i.verdict.pending.length ? { pending: i.verdict.pending } : {}),
      ...(i.verdict.stale.length ? { stale: i.verdict.stale } : {}),
      ...(i.verdict.rejected.length ? { rejected: i.verdict.rejected } : {}),
    },
    ...(i.approved ? { approvedRevision: { name: i.approved.name, revision: i.approved.revision, specHash: i.approved.specHash } } : {}),
    ...(served ? { served: { revision: served.revision, specHash: served.specHash, narrowed: served.narrowed, spec: served.spec } } : {}),
    ...(i.pending && i.pending.length > 0 ? { pendingChange: { specHash: i.specHash, paths: pendingPaths, changes: i.pending } } : {}),
    ...(i.toolPin ? { toolDefinitions: { specHash: i.toolPin.specHash, digest: i.toolPin.digest, pinnedAt: i.toolPin.pinnedAt, ...(drift ? { changed: drift.slice(0, 64) } : {}) } } : {}),
    ...(discovered ? { tools: compareTools(declared, discovered).slice(0, 256) } : {}),
    ...(serverInfo ? { serverInfo } : {}),
    registry: { published: isPublished, name: i.registryName, ...(publishedAt ? { publishedAt } : {}) },
    conditions,
  };
  if (i.workload) status.readyReplicas = i.workload.readyReplicas;
  return status;
}
