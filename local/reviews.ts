/**
 * The demo's reviewers and the servers' policy files in `make run`: the three reviewers approve
 * the locally running servers in their own names (through the review-gate admission policy,
 * like anyone else), and each server's policy file follows its McpServer as it changes.
 */
import { DEFAULT_REVIEWER_GROUPS, McpServer } from "../crds/index.js";
import type { McpServerObject } from "../mcpserver/index.js";
import type { Informer } from "../runtime/index.js";
import { DEMO_PEOPLE } from "../registry-api/index.js";
import type { RunningDomainServer } from "./domain-servers.js";
import { kubectl } from "./cluster/kubectl.js";

interface Ref {
  namespace: string;
  name: string;
}

/** The operator's McpServer cache, watched (not polled) by everything `make run` waits on. */
export type ServerCache = Informer<McpServerObject>;

/** Resolves with `found()` once it is defined, looking again at each change the cache sees. */
export function waitInCache<T>(cache: ServerCache, what: string, found: () => T | undefined, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      unsubscribe();
      settle();
    };
    const look = () => {
      const value = found();
      if (value !== undefined) finish(() => resolve(value));
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`${what}: not within ${timeoutMs / 1000}s; see .toolfleet/logs/operator.log`))), timeoutMs);
    const unsubscribe = cache.onChange(look);
    look();
  });
}

/** The hash is the current spec's only once the operator has seen this generation. */
function specHashOf(cache: ServerCache, ref: Ref): Promise<string> {
  return waitInCache(cache, `the operator's status.specHash of ${ref.namespace}/${ref.name}`, () => {
    const s = cache.get(ref.namespace, ref.name);
    return s && s.status?.observedGeneration === s.metadata.generation ? s.status?.specHash : undefined;
  }, 60_000);
}

/** Approves each server in every area as that area's demo reviewer; returns who approved. */
export async function approveAsReviewers(cache: ServerCache, refs: Ref[]): Promise<string[]> {
  const reviewers = Object.entries(DEFAULT_REVIEWER_GROUPS).map(([area, group]) => {
    const person = DEMO_PEOPLE.find((p) => p.groups.includes(group));
    if (!person) throw new Error(`no demo person is in ${group}, the ${area} reviewers`);
    return { area, person };
  });
  for (const ref of refs) {
    const specHash = await specHashOf(cache, ref);
    for (const { area, person } of reviewers) {
      const review = { decision: "Approved", reviewer: person.name, specHash, at: new Date().toISOString().replace(/\.\d+Z$/, "Z"), comment: "approved by make run" };
      await kubectl(["patch", "mcpserver", ref.name, "-n", ref.namespace, "--type=merge", "-p", JSON.stringify({ spec: { review: { [area]: review } } })], {
        user: person.name,
        groups: [...person.groups],
      });
    }
  }
  return reviewers.map(({ area, person }) => `${person.name} (${area})`);
}

/** Rewrites each server's policy file when its McpServer's access or tools change; returns a stop function. */
export function keepPoliciesInSync(cache: ServerCache, servers: RunningDomainServer[]): () => void {
  const seen = new Map<string, string>();
  return cache.onChange((_type, obj) => {
    const server = servers.find((s) => s.manifest.metadata.name === obj.metadata.name && s.manifest.metadata.namespace === obj.metadata.namespace);
    const parsed = McpServer.safeParse(obj);
    // The policy of what was approved (status.served, narrowed at once), never the current spec.
    const served = parsed.success ? parsed.data.status?.served : undefined;
    if (!server || !parsed.success || !served) return;
    const key = JSON.stringify([served.spec.access, served.spec.tools]);
    if (seen.get(server.name) === key) return;
    seen.set(server.name, key);
    server.updatePolicy({ ...parsed.data, spec: { ...served.spec, ...(parsed.data.spec.review ? { review: parsed.data.spec.review } : {}) } });
  });
}
