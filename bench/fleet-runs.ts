/**
 * What the fleet rollout benchmarks share: a rollout of N approved McpServers by a controller
 * process (the operator, or its controller-runtime peer), timed from the first apply to every
 * server Ready; the writes each made per server, read from the API server's audit log by user
 * agent; and a process's peak resident memory.
 */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { McpServerSpec } from "../crds/index.js";
import { McpServerType } from "../mcpserver/type.js";
import { specHash } from "../operator/spec-hash.js";
import type { KubeObject } from "../runtime/index.js";
import { approvedFleetServer, ensureCreated, fleetSpec, inParallel, isReadyServer, readyServers, reviewerClient, watchUntil } from "../test/operator/fleet.js";
import { auditSince, REVIEWERS } from "../test/operator/harness.js";

export const progress = (bench: string) => (msg: string) => process.stderr.write(`[${bench}] ${msg}\n`);

/**
 * The manifest with its defaults spelled out (as the API server's schema would fill them), so a
 * peer that does not parse with the zod schema hashes the same spec.
 */
export function approvedFleetManifest(namespace: string, i: number): KubeObject {
  const spec = McpServerSpec.parse(fleetSpec(i));
  const base = approvedFleetServer(namespace, i) as KubeObject & { spec: Record<string, unknown> };
  return { ...base, spec: { ...spec, review: { security: { decision: "Approved", reviewer: REVIEWERS.security.user, specHash: specHash(spec) } } } } as KubeObject;
}

/** Applies N approved servers in `namespace` and resolves with the seconds until each was Ready once. */
export async function rollout(namespace: string, n: number, log: (msg: string) => void, who: string): Promise<number> {
  const applier = reviewerClient(500);
  const every = (k: number) => k % Math.max(1, Math.floor(n / 10)) === 0 || k === n;
  const started = performance.now();
  const ready = watchUntil(readyServers(namespace), n, isReadyServer, (k) => every(k) && log(`${who}: ${k}/${n} servers Ready`));
  await inParallel(n, 32, (i) => ensureCreated(applier, McpServerType, approvedFleetManifest(namespace, i)));
  await ready;
  return (performance.now() - started) / 1000;
}

/** Writes (refused ones too) in `namespace` by user agents starting with `userAgent`, since `offset`, by verb and resource. */
export function writesSince(offset: number, namespace: string, userAgent: string): { total: number; byResource: Record<string, number>; failed: number } {
  const byResource: Record<string, number> = {};
  let total = 0;
  let failed = 0;
  for (const e of auditSince(offset)) {
    if (e.stage !== "ResponseComplete" || !e.userAgent.startsWith(userAgent) || e.objectRef?.namespace !== namespace) continue;
    const code = e.responseStatus?.code ?? 0;
    const what = `${e.verb} ${e.objectRef.resource ?? "?"}${e.objectRef.subresource ? `/${e.objectRef.subresource}` : ""}${code >= 300 ? ` (${code})` : ""}`;
    byResource[what] = (byResource[what] ?? 0) + 1;
    total++;
    if (code >= 300) failed++;
  }
  return { total, byResource, failed };
}

export const describeWrites = (w: ReturnType<typeof writesSince>, n: number) =>
  `${(w.total / n).toFixed(2)} writes per server (${Object.entries(w.byResource)
    .sort()
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ")})`;

/** A running process's peak resident set (VmHWM), in MB. */
export function peakRssMb(child: ChildProcess): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}
