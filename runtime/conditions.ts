/**
 * metav1.Condition bookkeeping, as apimachinery's SetStatusCondition: lastTransitionTime moves
 * only when the status moves, so a condition tells how long a server has been in its state.
 */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export type DesiredCondition = Omit<Condition, "lastTransitionTime">;

/** Kubernetes writes times with second precision; so do we, or resyncs would see a change. */
export const nowTime = (d = new Date()) => d.toISOString().replace(/\.\d{3}Z$/, "Z");

/**
 * The new condition list: each desired condition keeps its old lastTransitionTime unless its
 * status changed. Conditions of other types are kept as they are.
 */
export function setConditions(existing: readonly Condition[] | undefined, desired: readonly DesiredCondition[], now = nowTime()): Condition[] {
  const byType = new Map((existing ?? []).map((c) => [c.type, c]));
  const out: Condition[] = [];
  for (const d of desired) {
    const old = byType.get(d.type);
    out.push({ ...d, lastTransitionTime: old && old.status === d.status ? old.lastTransitionTime : now });
    byType.delete(d.type);
  }
  return [...out, ...byType.values()];
}

export const findCondition = (list: readonly Condition[] | undefined, type: string) => list?.find((c) => c.type === type);

/** Transitions between two lists: what deserves an Event. */
export function conditionTransitions(before: readonly Condition[] | undefined, after: readonly Condition[]): Array<{ from?: Condition; to: Condition }> {
  const old = new Map((before ?? []).map((c) => [c.type, c]));
  return after.filter((c) => {
    const o = old.get(c.type);
    return !o || o.status !== c.status || o.reason !== c.reason;
  }).map((to) => ({ from: old.get(to.type), to }));
}
