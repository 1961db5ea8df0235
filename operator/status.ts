/**
 * The McpServer's status from what the reconciler observed: review verdict, workload
 * readiness and tool verification, as conditions with stable reasons, a phase, and what the
 * registry serves. Pure, so every rule is a unit test.
 */
import type { McpServerSpec, McpServerStatus } from "../crds/index.js";
import { setConditions, type Condition, type DesiredCondition } from "../runtime/index.js";
import type { ReviewVerdict } from "./review-gate.js";
import { compareTools, type VerificationResult } from "./tool-verification.js";

export interface WorkloadObservation {
  /** Replicas the Deployment is asked to run (0 until approved). */
  desiredReplicas: number;
  readyReplicas: number;
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
}

type Status = "True" | "False" | "Unknown";
const cond = (type: string, status: Status, reason: string, message: string, generation: number | undefined): DesiredCondition => ({
  type,
  status,
  reason,
  message,
  ...(generation !== undefined ? { observedGeneration: generation } : {}),
});

export function computeStatus(i: StatusInputs): McpServerStatus {
  const g = i.generation;
  const v = i.verification;
  const reviewed = cond("Reviewed", i.verdict.approved ? "True" : "False", i.verdict.reason, i.verdict.message, g);

  let available: DesiredCondition;
  if (i.workload) {
    const { desiredReplicas, readyReplicas } = i.workload;
    if (!i.verdict.approved) available = cond("Available", "False", "AwaitingReview", "runs 0 replicas until every required review approves the current spec", g);
    else if (desiredReplicas === 0) available = cond("Available", "False", "ScaledToZero", "spec.workload.replicas is 0", g);
    else if (readyReplicas > 0) available = cond("Available", "True", "MinimumReplicasReady", `${readyReplicas}/${desiredReplicas} replicas ready`, g);
    else available = cond("Available", "False", "ReplicasNotReady", `0/${desiredReplicas} replicas ready`, g);
  } else if (!v) available = cond("Available", "Unknown", "NotChecked", "the remote server has not been contacted yet", g);
  else if (v.outcome === "Unreachable") available = cond("Available", "False", "Unreachable", v.message, g);
  else available = cond("Available", "True", "Reachable", `reached ${i.url}`, g);

  let tools: DesiredCondition;
  if (available.status !== "True") tools = cond("ToolsVerified", "Unknown", "NotAvailable", "tools are verified once the server is available", g);
  else if (!v) tools = cond("ToolsVerified", "Unknown", "NotChecked", "not verified yet", g);
  else {
    const reason = { Verified: "ToolsMatch", Mismatch: "ToolsMismatch", Unreachable: "Unreachable", Unauthorized: "VerifierUnauthorized", HandshakeFailed: "HandshakeFailed" }[v.outcome];
    const status: Status = v.outcome === "Verified" ? "True" : v.outcome === "Mismatch" ? "False" : "Unknown";
    tools = cond("ToolsVerified", status, reason, v.message, g);
  }

  const isPublished = reviewed.status === "True" && available.status === "True" && tools.status !== "False";
  const published = isPublished
    ? cond("Published", "True", "Published", `served by the registry as ${i.registryName}`, g)
    : reviewed.status !== "True"
      ? cond("Published", "False", "NotReviewed", "not served: the current spec is not approved", g)
      : available.status !== "True"
        ? cond("Published", "False", "NotAvailable", "not served: the server is not available", g)
        : cond("Published", "False", "ToolsMismatch", "not served: the server's tools differ from the reviewed ones", g);

  const allReplicas = !i.workload || i.workload.readyReplicas >= i.workload.desiredReplicas;
  const ready = !isPublished
    ? cond("Ready", "False", "NotPublished", published.message, g)
    : allReplicas
      ? cond("Ready", "True", "Ready", "published and fully rolled out", g)
      : cond("Ready", "False", "ReplicasNotReady", `${i.workload!.readyReplicas}/${i.workload!.desiredReplicas} replicas ready`, g);

  const conditions = setConditions(i.previous?.conditions as Condition[] | undefined, [reviewed, available, tools, published, ready], i.now);

  const wasPublished = i.previous?.registry?.published === true;
  const publishedAt = isPublished ? (wasPublished ? i.previous?.registry?.publishedAt ?? i.now : i.now) : i.previous?.registry?.publishedAt;

  let phase: NonNullable<McpServerStatus["phase"]>;
  if (i.verdict.rejected.length > 0) phase = "Rejected";
  else if (!i.verdict.approved) phase = i.previous?.registry?.publishedAt ? "Unpublished" : "PendingReview";
  else if (isPublished) phase = "Published";
  else if (tools.status === "False" || (!i.workload && available.status === "False")) phase = "Degraded";
  else if (available.status !== "True") phase = "Deploying";
  else phase = "Verifying";

  // The last handshake's tools and serverInfo stay until the next handshake, re-marked against
  // the current declaration.
  const declared = i.spec.tools.map((t) => t.name);
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
    ...(discovered ? { tools: compareTools(declared, discovered).slice(0, 256) } : {}),
    ...(serverInfo ? { serverInfo } : {}),
    registry: { published: isPublished, name: i.registryName, ...(publishedAt ? { publishedAt } : {}) },
    conditions,
  };
  if (i.workload) status.readyReplicas = i.workload.readyReplicas;
  return status;
}
