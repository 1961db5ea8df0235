/**
 * A fleet of approved workload McpServers for the benchmarks (and any test that wants many):
 * specs, pre-approved manifests created by the security reviewer, and watches that tell when
 * every server (or every Deployment) is Ready.
 */
import { McpServerSpec, type McpServerSpecInput } from "../../crds/index.js";
import { McpServerType, type McpServerObject } from "../../mcpserver/type.js";
import { specHash } from "../../operator/spec-hash.js";
import { CoreTypes, Informer, KubeApiError, KubeClient, KubeConnectionError, type KubeObject, type ResourceType } from "../../runtime/index.js";
import { adminConfig, userConfig } from "../../local/cluster/harness.js";
import { REVIEWERS } from "./harness.js";

/**
 * Creates `obj` for a fleet of a benchmark or test, where the object existing is all that
 * matters: one the server already has (a create that landed although the connection broke or the
 * API server's handler timed out, on a busy machine) is taken as made; a create lost that way is
 * sent again, up to 3 times.
 */
export async function ensureCreated<T extends KubeObject>(client: KubeClient, type: ResourceType, obj: KubeObject): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.create<T>(type, obj);
    } catch (err) {
      const lost = err instanceof KubeConnectionError || (err instanceof KubeApiError && err.unavailable);
      if (!lost && !(err instanceof KubeApiError && err.statusCode === 409)) throw err;
      const existing = await client.get<T>(type, obj.metadata.namespace, obj.metadata.name);
      if (existing) return existing;
      if (!lost || attempt >= 3) throw err;
    }
  }
}

export function fleetSpec(i: number): McpServerSpecInput {
  return {
    title: `Fleet server ${i}`,
    description: "A member of a benchmark fleet",
    version: "1.0.0",
    owner: { team: "fleet", contact: "#fleet" },
    workload: { image: `registry.example.com/fleet/s${i}@sha256:${"a".repeat(64)}`, replicas: 1 },
    access: { allowedGroups: ["fleet"], allowedServiceAccounts: ["agents/bot"] },
    tools: [
      { name: "lookup", readOnly: true, minutesSaved: 2 },
      { name: "update", sensitive: true, minutesSaved: 5 },
    ],
  };
}

/** The manifest the security reviewer creates, already approved for its exact spec. */
export function approvedFleetServer(namespace: string, i: number): KubeObject {
  const spec = fleetSpec(i);
  return {
    apiVersion: "toolfleet.dev/v1alpha1",
    kind: "McpServer",
    metadata: { name: `s${i}`, namespace },
    spec: { ...spec, review: { security: { decision: "Approved", reviewer: REVIEWERS.security.user, specHash: specHash(McpServerSpec.parse(spec)) } } },
  } as KubeObject;
}

export const reviewerClient = (qps: number) =>
  new KubeClient(userConfig(REVIEWERS.security.user, [...REVIEWERS.security.groups]), { qps, burst: Math.ceil(qps * 2), userAgent: "fleet-applier" });

/** Runs `task` over 0..n-1 with at most `width` in flight. */
export async function inParallel(n: number, width: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

/**
 * Resolves once `n` distinct objects have each been seen `ready` at least once. "At least once",
 * because the local control plane's fake node may later flap and take pods' readiness with it:
 * the figure is the time to the first moment each server was Ready.
 */
export async function watchUntil<T extends KubeObject>(informer: Informer<T>, n: number, ready: (obj: T) => boolean, onProgress?: (k: number) => void): Promise<void> {
  const seen = new Set<string>();
  await new Promise<void>((resolve) => {
    const check = (obj?: T) => {
      if (obj && !seen.has(obj.metadata.name) && ready(obj)) {
        seen.add(obj.metadata.name);
        onProgress?.(seen.size);
      }
      if (seen.size >= n) {
        stop();
        resolve();
      }
    };
    const stop = informer.onChange((_type, obj) => check(obj));
    informer.start();
  });
  await informer.stop();
}

const observer = () => new KubeClient(adminConfig(), { qps: 1000, burst: 1000, userAgent: "fleet-observer" });

export const readyServers = (namespace: string) => new Informer<McpServerObject>(observer(), McpServerType, { namespaces: [namespace] });
export const isReadyServer = (s: McpServerObject) => s.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;

interface Deployment extends KubeObject {
  status?: { readyReplicas?: number };
}
export const deployments = (namespace: string) => new Informer<Deployment>(observer(), CoreTypes.Deployment, { namespaces: [namespace] });
export const isReadyDeployment = (d: Deployment) => (d.status?.readyReplicas ?? 0) >= 1;
