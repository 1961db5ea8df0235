/**
 * The reviewer's commands, acting through their own kubeconfig (so the API server's review-gate
 * policy judges them as it judges kubectl): the queue of servers waiting for their areas, the
 * diff of what they would vouch for, and approve/reject of exactly the spec hash they were
 * shown. The write is a JSON patch whose `test` operations hold the generation and the
 * status.specHash that were read: if the spec changed in between, the API server refuses the
 * patch and nothing is written.
 */
import { DEFAULT_REVIEWER_GROUPS, McpServerSpec, REVIEWERS_CONFIGMAP, SYSTEM_NAMESPACE, type ReviewEntry } from "../crds/index.js";
import { McpServerType, type McpServerObject } from "../mcpserver/index.js";
import { KubeApiError, KubeClient, KubeConnectionError, loadConnection, loadKubeconfigFile } from "../runtime/index.js";
import { CliError, EXIT, usageError } from "./errors.js";
import { diffSpecs, type DiffLine } from "./spec-diff.js";

export interface Reviewer {
  username: string;
  groups: string[];
  /** Area → the group whose members review it, as the cluster configures it. */
  areaGroups: Record<string, string>;
  /** The areas this person reviews. */
  areas: string[];
}

export interface QueueItem {
  namespace: string;
  name: string;
  title: string;
  owner: string;
  phase?: string;
  specHash?: string;
  generation: number;
  /** This reviewer's areas that wait: no decision yet, or one made for another hash. */
  waiting: Array<{ area: string; state: "Pending" | "Stale" }>;
}

export interface ShownDiff {
  namespace: string;
  name: string;
  generation: number;
  specHash: string;
  /** What the diff is against: the latest approved revision, or nothing. */
  base: string;
  /**
   * The operator keeps at most 64 changes and 2 KB of each value in status: a diff cut there is
   * not all a reviewer would vouch for, so `approve` without --spec-hash refuses it.
   */
  cut: boolean;
  reviews: Array<{ area: string; decision: string; reviewer?: string; current: boolean }>;
  changes: DiffLine[];
}

export function kubeClient(kubeconfig: string | undefined): KubeClient {
  try {
    const conn = kubeconfig ? loadKubeconfigFile(kubeconfig) : loadConnection();
    return new KubeClient(conn, { userAgent: "toolfleet-cli", qps: 20, burst: 40, timeoutMs: 30_000 });
  } catch (err) {
    throw new CliError(`cannot use your kubeconfig: ${(err as Error).message}`, EXIT.failure);
  }
}

function kubeError(err: unknown, what: string): never {
  if (err instanceof CliError) throw err;
  if (err instanceof KubeConnectionError) throw new CliError(`${what}: cannot reach the API server: ${err.cause.message}`, EXIT.unavailable);
  if (err instanceof KubeApiError) {
    if (err.statusCode === 401) throw new CliError(`${what}: the API server does not accept your kubeconfig's credentials`, EXIT.notSignedIn);
    if (err.statusCode === 403) throw new CliError(`${what}: refused by the API server: ${err.serverMessage}`, EXIT.denied);
    if (err.statusCode === 404) throw new CliError(`${what}: not found`, EXIT.notFound);
    throw new CliError(`${what}: the API server answered ${err.statusCode} ${err.reason}: ${err.serverMessage}`, EXIT.failure);
  }
  throw err;
}

/** Who the kubeconfig authenticates as (SelfSubjectReview), and which areas they review. */
export async function whoReviews(client: KubeClient): Promise<Reviewer> {
  let review: { status?: { userInfo?: { username?: string; groups?: string[] } } };
  try {
    review = (await client.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" })) as typeof review;
  } catch (err) {
    kubeError(err, "who am I (SelfSubjectReview)");
  }
  const username = review.status?.userInfo?.username ?? "";
  const groups = review.status?.userInfo?.groups ?? [];
  // The cluster's own reviewer groups when this person may read them, else the defaults the
  // review gate ships with; either way the API server has the last word on every write.
  let areaGroups: Record<string, string> = { ...DEFAULT_REVIEWER_GROUPS };
  try {
    const cm = (await client.request("GET", `/api/v1/namespaces/${SYSTEM_NAMESPACE}/configmaps/${REVIEWERS_CONFIGMAP}`)) as { data?: Record<string, string> };
    if (cm.data && Object.keys(cm.data).length) areaGroups = cm.data;
  } catch (err) {
    if (!(err instanceof KubeApiError) || (err.statusCode !== 403 && err.statusCode !== 404)) kubeError(err, "reading the reviewer groups");
  }
  const areas = Object.entries(areaGroups)
    .filter(([, g]) => g.split(",").some((x) => groups.includes(x.trim())))
    .map(([a]) => a)
    .sort();
  return { username, groups, areaGroups, areas };
}

function requireReviewer(who: Reviewer): void {
  if (who.areas.length === 0) {
    const list = Object.entries(who.areaGroups).map(([a, g]) => `${a}: ${g}`).join("; ");
    throw new CliError(`${who.username} is not a reviewer: in none of the reviewer groups (${list})`, EXIT.denied);
  }
}

const hashCurrent = (s: McpServerObject) => s.status?.specHash !== undefined && s.status.observedGeneration === s.metadata.generation;

function reviewsOf(s: McpServerObject): Record<string, ReviewEntry> {
  const parsed = McpServerSpec.safeParse(s.spec);
  return parsed.success ? (parsed.data.review ?? {}) : {};
}

export async function reviewQueue(client: KubeClient, who: Reviewer, namespace?: string): Promise<QueueItem[]> {
  requireReviewer(who);
  let list: { items: McpServerObject[] };
  try {
    list = (await client.request("GET", client.path(McpServerType, namespace))) as { items: McpServerObject[] };
  } catch (err) {
    kubeError(err, "listing McpServers");
  }
  const items: QueueItem[] = [];
  for (const s of list.items) {
    const reviews = reviewsOf(s);
    const hash = s.status?.specHash;
    const waiting = who.areas.flatMap((area): QueueItem["waiting"] => {
      const r = reviews[area];
      if (!r || r.decision === "Pending") return [{ area, state: "Pending" }];
      return r.specHash !== hash ? [{ area, state: "Stale" }] : [];
    });
    if (waiting.length === 0) continue;
    const spec = s.spec as { title?: string; owner?: { team?: string } };
    items.push({
      namespace: s.metadata.namespace,
      name: s.metadata.name,
      title: spec.title ?? "",
      owner: spec.owner?.team ?? "",
      ...(s.status?.phase ? { phase: s.status.phase } : {}),
      ...(hash ? { specHash: hash } : {}),
      generation: s.metadata.generation ?? 0,
      waiting,
    });
  }
  return items.sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

export function parseRef(ref: string): { namespace: string; name: string } {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)$/.exec(ref);
  if (!m) throw usageError(`"${ref}" is not namespace/name (e.g. data-platform/presto)`);
  return { namespace: m[1]!, name: m[3]! };
}

async function getServer(client: KubeClient, ref: { namespace: string; name: string }): Promise<McpServerObject> {
  try {
    return (await client.request("GET", client.path(McpServerType, ref.namespace, ref.name))) as McpServerObject;
  } catch (err) {
    if (err instanceof KubeApiError && err.statusCode === 404) throw new CliError(`no McpServer ${ref.namespace}/${ref.name}`, EXIT.notFound);
    kubeError(err, `reading ${ref.namespace}/${ref.name}`);
  }
}

/** How long to wait for the operator to hash the spec's latest generation (a review itself adds one). */
const HASH_WAIT_MS = 30_000;

/**
 * The server once the operator has hashed its latest generation. Every review written adds a
 * generation (the hash, which leaves reviews out, stays the same), so right after another
 * reviewer's decision this waits a moment for the operator instead of refusing.
 */
async function hashedServer(client: KubeClient, ref: { namespace: string; name: string }, waitMs = HASH_WAIT_MS): Promise<McpServerObject & { status: { specHash: string } }> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const s = await getServer(client, ref);
    if (hashCurrent(s)) return s as McpServerObject & { status: { specHash: string } };
    if (Date.now() >= deadline) {
      throw new CliError(`${ref.namespace}/${ref.name}: the operator has not hashed generation ${s.metadata.generation} of the spec within ${waitMs / 1000} s; is it running?`, EXIT.stale);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function reviewDiff(client: KubeClient, ref: { namespace: string; name: string }): Promise<ShownDiff> {
  const s = await hashedServer(client, ref);
  const specHash = s.status.specHash;
  const reviews = Object.entries(reviewsOf(s)).map(([area, r]) => ({
    area,
    decision: r.decision,
    ...(r.reviewer ? { reviewer: r.reviewer } : {}),
    current: r.decision !== "Pending" && r.specHash === specHash,
  }));
  const approved = s.status?.approvedRevision;
  if (!approved) return { ...ref, generation: s.metadata.generation ?? 0, specHash, base: "nothing approved yet", reviews, changes: diffSpecs(undefined, withDefaults(s.spec)), cut: false };
  // Against an approved revision, the diff is the operator's (status.pendingChange): a reviewer
  // reads McpServers, not the cluster's ControllerRevisions (those of StatefulSets and DaemonSets
  // hold other teams' pod templates).
  const pending = s.status?.pendingChange;
  const base = `approved revision ${approved.revision} (${approved.name})`;
  if (!pending) return { ...ref, generation: s.metadata.generation ?? 0, specHash, base, reviews, changes: [], cut: false };
  if (pending.specHash !== specHash) {
    throw new CliError(`${ref.namespace}/${ref.name}: the operator has not yet compared spec hash ${specHash} with the approved revision; try again in a moment`, EXIT.stale);
  }
  const changes: DiffLine[] = pending.changes.map((c) => ({
    op: c.old === undefined ? "+" : c.new === undefined ? "-" : "~",
    path: c.path.replace(/^spec\./, ""),
    ...(c.old !== undefined ? { before: c.old } : {}),
    ...(c.new !== undefined ? { after: c.new } : {}),
  }));
  const cut = pending.changes.length >= MAX_STATUS_CHANGES || pending.changes.some((c) => [c.old, c.new].some((v) => v !== undefined && v.length >= MAX_STATUS_VALUE && v.endsWith("…")));
  return { ...ref, generation: s.metadata.generation ?? 0, specHash, base, reviews, changes, cut };
}

/** The operator's bounds on status.pendingChange (operator/spec-diff.ts). */
const MAX_STATUS_CHANGES = 64;
const MAX_STATUS_VALUE = 2048;

/** With the schema's defaults applied, so a default spelled out is no change. */
function withDefaults(spec: unknown): unknown {
  const parsed = McpServerSpec.safeParse(spec);
  return parsed.success ? parsed.data : spec;
}

export interface DecideOptions {
  area: string;
  decision: "Approved" | "Rejected";
  comment?: string;
  /** The hash the reviewer was shown; the decision is refused if the spec's hash is another. */
  specHash?: string;
}

export interface Decided {
  namespace: string;
  name: string;
  area: string;
  review: ReviewEntry;
  /** The diff shown, when no hash was given: what was approved is exactly that. */
  shown?: ShownDiff;
}

export async function decide(client: KubeClient, who: Reviewer, ref: { namespace: string; name: string }, options: DecideOptions): Promise<Decided> {
  if (!(options.area in who.areaGroups)) throw usageError(`--area: "${options.area}" is not a review area (${Object.keys(who.areaGroups).join(", ")})`);
  if (!who.areas.includes(options.area)) {
    throw new CliError(`${who.username} may not decide for ${options.area}: not in ${who.areaGroups[options.area]}, its reviewer group`, EXIT.denied);
  }
  // Without a hash from the person, what this command shows (the diff) is what it approves.
  const shown = options.specHash === undefined ? await reviewDiff(client, ref) : undefined;
  if (shown?.cut) {
    throw new CliError(
      `${ref.namespace}/${ref.name}: the change is too large to show in full (64 fields or more, or a value over 2 KB); read the whole spec (kubectl get mcpserver ${ref.name} -n ${ref.namespace} -o yaml) and approve with --spec-hash ${shown.specHash}`,
      EXIT.stale,
    );
  }
  const vouched = options.specHash ?? shown!.specHash;
  // Another reviewer's write between our read and ours fails the test below although the
  // reviewed spec is the same: read again and retry while the hash is still the one shown.
  for (let attempt = 0; attempt < 5; attempt++) {
    const s = await hashedServer(client, ref);
    const hash = s.status.specHash;
    if (hash !== vouched) {
      throw new CliError(
        `${ref.namespace}/${ref.name} changed since it was shown: its spec hash is now ${hash}, not ${vouched}; run toolfleet review diff ${ref.namespace}/${ref.name} again`,
        EXIT.stale,
      );
    }
    const review: ReviewEntry = {
      decision: options.decision,
      reviewer: who.username,
      at: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      specHash: hash,
      ...(options.comment ? { comment: options.comment } : {}),
    };
    const hasReview = typeof s.spec === "object" && s.spec !== null && "review" in s.spec;
    const patch = [
      // The spec the hash was computed for is still the spec: no generation has been added since
      // this read, and the operator's hash is the one shown.
      { op: "test", path: "/metadata/generation", value: s.metadata.generation },
      { op: "test", path: "/status/specHash", value: hash },
      hasReview ? { op: "add", path: `/spec/review/${options.area}`, value: review } : { op: "add", path: "/spec/review", value: { [options.area]: review } },
    ];
    try {
      await client.request("PATCH", client.path(McpServerType, ref.namespace, ref.name), patch, undefined, "application/json-patch+json");
      return { ...ref, area: options.area, review, ...(shown ? { shown } : {}) };
    } catch (err) {
      if (err instanceof KubeApiError && (err.statusCode === 422 || err.statusCode === 409) && /test/i.test(err.serverMessage)) continue;
      kubeError(err, `writing the ${options.area} review of ${ref.namespace}/${ref.name}`);
    }
  }
  throw new CliError(`${ref.namespace}/${ref.name} kept changing while the review was written: nothing written; run toolfleet review diff again`, EXIT.stale);
}
