/**
 * The demo's reviewers and the servers' policy files in `make run`: the three reviewers approve
 * the locally running servers in their own names (through the review-gate admission policy,
 * like anyone else), and each server's policy file follows its McpServer as it changes.
 */
import { McpServer } from "../crds/index.js";
import { DEFAULT_REVIEWER_GROUPS } from "../crds/index.js";
import { DEMO_PEOPLE } from "../registry-api/index.js";
import type { RunningDomainServer } from "../servers/local.js";
import { kubectl } from "../test/cluster/kubectl.js";

interface Ref {
  namespace: string;
  name: string;
}

async function specHashOf(ref: Ref, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    // The hash is the current spec's only once the operator has seen this generation.
    const r = await kubectl(["get", "mcpserver", ref.name, "-n", ref.namespace, "-o", "jsonpath={.metadata.generation} {.status.observedGeneration} {.status.specHash}"], {
      allowFailure: true,
    });
    const [generation, observed, hash] = r.stdout.trim().split(" ");
    if (r.code === 0 && generation === observed && /^[a-f0-9]{64}$/.test(hash ?? "")) return hash!;
    await new Promise((res) => setTimeout(res, 250));
  }
  throw new Error(`the operator has not written status.specHash of ${ref.namespace}/${ref.name} within ${timeoutMs / 1000}s; see .toolfleet/logs/operator.log`);
}

/** Approves each server in every area as that area's demo reviewer; returns who approved. */
export async function approveAsReviewers(refs: Ref[]): Promise<string[]> {
  const reviewers = Object.entries(DEFAULT_REVIEWER_GROUPS).map(([area, group]) => {
    const person = DEMO_PEOPLE.find((p) => p.groups.includes(group));
    if (!person) throw new Error(`no demo person is in ${group}, the ${area} reviewers`);
    return { area, person };
  });
  for (const ref of refs) {
    const specHash = await specHashOf(ref);
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

/** Rewrites each server's policy file when its McpServer changes; returns a stop function. */
export function keepPoliciesInSync(servers: RunningDomainServer[], periodMs = 3000): () => void {
  const seen = new Map<string, string>();
  const timer = setInterval(() => {
    for (const s of servers) {
      const { name, namespace } = s.manifest.metadata;
      void kubectl(["get", "mcpserver", name, "-n", namespace, "-o", "json"], { allowFailure: true }).then((r) => {
        if (r.code !== 0) return;
        const parsed = McpServer.safeParse(JSON.parse(r.stdout));
        if (!parsed.success) return;
        const key = JSON.stringify([parsed.data.spec.access, parsed.data.spec.tools]);
        if (seen.get(name) === key) return;
        seen.set(name, key);
        s.updatePolicy(parsed.data);
      });
    }
  }, periodMs);
  timer.unref();
  return () => clearInterval(timer);
}
