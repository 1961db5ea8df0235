/**
 * The review gate's read side: which required areas approved the current spec. An approval
 * counts only when its specHash is the current one; a tag-only image never counts as approved
 * unless the cluster allows tags; Rejected holds until the spec (and so the hash) changes.
 */
import { DIGEST_PINNED, type McpServerSpec } from "../crds/index.js";

export type ReviewedReason = "Approved" | "Rejected" | "ImageNotPinned" | "ReviewStale" | "ReviewPending";

export interface ReviewVerdict {
  approved: boolean;
  pending: string[];
  stale: string[];
  rejected: string[];
  reason: ReviewedReason;
  message: string;
}

export interface ReviewGateConfig {
  requiredReviews: readonly string[];
  allowTagImages: boolean;
}

export function evaluateReview(spec: McpServerSpec, currentHash: string, config: ReviewGateConfig): ReviewVerdict {
  const pending: string[] = [];
  const stale: string[] = [];
  const rejected: string[] = [];
  for (const area of config.requiredReviews) {
    const entry = spec.review?.[area];
    if (!entry || entry.decision === "Pending") pending.push(area);
    else if (entry.specHash !== currentHash) stale.push(area);
    else if (entry.decision === "Rejected") rejected.push(area);
  }
  const unpinned = spec.workload !== undefined && !DIGEST_PINNED.test(spec.workload.image) && !config.allowTagImages;
  const base = { pending, stale, rejected };
  if (rejected.length > 0) {
    const who = rejected.map((a) => `${a} (${spec.review?.[a]?.reviewer ?? "?"}${spec.review?.[a]?.comment ? `: ${spec.review[a]!.comment}` : ""})`);
    return { ...base, approved: false, reason: "Rejected", message: `rejected by ${who.join(", ")}; it stays rejected until the spec changes` };
  }
  if (unpinned) {
    return {
      ...base,
      approved: false,
      reason: "ImageNotPinned",
      message: `spec.workload.image ${spec.workload!.image} is not pinned by digest: use image@sha256:<digest>; a tag-only image is never counted as approved`,
    };
  }
  if (stale.length > 0) {
    return { ...base, approved: false, reason: "ReviewStale", message: `the reviews of ${stale.join(", ")} are for another spec (image, tools or access changed): they must review specHash ${currentHash} again` };
  }
  if (pending.length > 0) {
    return { ...base, approved: false, reason: "ReviewPending", message: `waiting for the review of ${pending.join(", ")} for specHash ${currentHash}` };
  }
  return { ...base, approved: true, reason: "Approved", message: `${config.requiredReviews.join(", ")} approved specHash ${currentHash}` };
}
