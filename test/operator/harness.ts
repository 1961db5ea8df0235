/**
 * What the operator's cluster tests share: an operator in-process (one namespace, its own
 * lease) or as a real process (dist/operator/main.js, for kill and hand-over tests), reviewers
 * who approve, and polling.
 */
import { freePort } from "../../local/ports.js";
import { waitFor } from "../../local/wait-for.js";
export { freePort, waitFor };
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { stringify } from "yaml";
import { DEFAULT_REVIEWER_GROUPS } from "../../crds/index.js";
import { DEFAULT_VERIFIER_SERVICE_ACCOUNT } from "../../mcpserver/settings.js";
import { EDITOR_ROLE, REVIEWER_ROLE } from "../../crds/rbac.js";
import { loadConfig, type OperatorConfig } from "../../operator/config.js";
import { startOperator, type RunningOperator, type StartOptions } from "../../operator/operator.js";
import { McpServerType, type McpServerObject } from "../../mcpserver/type.js";
import { KubeClient } from "../../runtime/index.js";
import { adminConfig, cluster, kubectl, userConfig } from "../../local/cluster/harness.js";
import { adminKubeconfigPath, clusterDir, repoRoot } from "../../local/cluster/paths.js";
import { createLogger, type Logger } from "../../common/log.js";
import { OPERATOR_NODE_FLAGS } from "../../operator/node-flags.js";

export const REVIEWERS = {
  security: { user: "sam", groups: [DEFAULT_REVIEWER_GROUPS.security!] },
  legal: { user: "lee", groups: [DEFAULT_REVIEWER_GROUPS.legal!] },
  genai: { user: "gia", groups: [DEFAULT_REVIEWER_GROUPS.genai!] },
} as const;
export type Area = keyof typeof REVIEWERS;

/** Where an operator's (or a test's) log goes: among the cluster's own logs. */
const operatorLogPath = (name: string) => join(clusterDir(), "logs", `operator-${name}.log`);

/** A log that a failing test can show: lines go to a file under the cluster's logs. */
export function testLogger(name: string): Logger {
  const fd = openSync(operatorLogPath(name), "a");
  return createLogger({ test: name }, { level: "info", sink: (line) => writeSyncSafe(fd, `${line}\n`) });
}
function writeSyncSafe(fd: number, line: string) {
  try {
    writeSync(fd, line);
  } catch {
    /* the log is a help, never a failure */
  }
}

export function operatorConfig(namespace: string, overrides: string[] = []): OperatorConfig {
  return loadConfig(
    [
      `--namespaces=${namespace}`,
      "--metrics-addr=127.0.0.1:0",
      `--leader-election-id=op-${namespace}`,
      "--kube-api-qps=100",
      "--kube-api-burst=200",
      "--verify-timeout=2s",
      ...overrides,
    ],
    {},
  );
}

export async function startTestOperator(namespace: string, overrides: string[] = [], options: StartOptions = {}): Promise<RunningOperator> {
  const op = await startOperator(operatorConfig(namespace, overrides), adminConfig(), { log: testLogger(namespace), ...options });
  await op.leading;
  return op;
}

/** Lets the owners edit McpServers and each reviewer group review them, in `namespace`. */
export async function grantRoles(namespace: string, editors: string[] = ["data-platform"]): Promise<void> {
  const binding = (name: string, role: string, group: string) => ({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name, namespace },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: group }],
  });
  const docs = [
    ...editors.map((g) => binding(`editors-${g.replace(/[^a-z0-9-]/g, "-")}`, EDITOR_ROLE, g)),
    ...Object.entries(REVIEWERS).map(([area, r]) => binding(`reviewers-${area}`, REVIEWER_ROLE, r.groups[0])),
  ];
  await kubectl(["apply", "-f", "-"], { input: docs.map((d) => stringify(d)).join("---\n") });
}

const reviewerClients = new Map<string, KubeClient>();
function reviewerClient(area: Area): KubeClient {
  let c = reviewerClients.get(area);
  if (!c) {
    const r = REVIEWERS[area];
    c = new KubeClient(userConfig(r.user, [...r.groups]), { qps: 200, burst: 400, userAgent: `reviewer-${area}` });
    reviewerClients.set(area, c);
  }
  return c;
}

/** The area's reviewer approves (or rejects) `specHash`, as themselves. */
export async function review(namespace: string, name: string, area: Area, specHash: string, decision: "Approved" | "Rejected" = "Approved"): Promise<void> {
  const r = REVIEWERS[area];
  await reviewerClient(area).request(
    "PATCH",
    reviewerClient(area).path(McpServerType, namespace, name),
    { spec: { review: { [area]: { decision, reviewer: r.user, specHash, at: new Date().toISOString().replace(/\.\d+Z$/, "Z") } } } },
    undefined,
    "application/merge-patch+json",
  );
}

let admin: KubeClient | undefined;
/** Waits until the operator has the server waiting for review, then approves its spec in every area; returns the approved specHash. */
export async function approveWhenPending(namespace: string, name: string): Promise<string> {
  const pending = await waitFor(`${namespace}/${name} waiting for review`, async () => {
    const s = await getServer(namespace, name);
    return s?.status?.phase === "PendingReview" && s.status.specHash ? s : undefined;
  });
  const specHash = pending.status!.specHash!;
  for (const area of Object.keys(REVIEWERS) as Area[]) await review(namespace, name, area, specHash);
  return specHash;
}

export function adminClient(): KubeClient {
  admin ??= new KubeClient(adminConfig(), { qps: 200, burst: 400, userAgent: "operator-tests" });
  return admin;
}

export async function getServer(namespace: string, name: string): Promise<McpServerObject | undefined> {
  return adminClient().get<McpServerObject>(McpServerType, namespace, name);
}

export const conditionOf = (s: McpServerObject | undefined, type: string) => s?.status?.conditions?.find((c) => c.type === type);
export const conditionsOf = (s: McpServerObject | undefined) =>
  Object.fromEntries((s?.status?.conditions ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));



export interface OperatorProcess {
  child: ChildProcess;
  metricsPort: number;
  logPath: string;
  exited: Promise<number | null>;
  metrics(): Promise<string>;
}

/** The compiled operator as its own process (needs `tsc` output in dist/, as `make test` builds). */
export async function spawnOperator(name: string, args: string[]): Promise<OperatorProcess> {
  const main = join(repoRoot(), "dist", "operator", "main.js");
  if (!existsSync(main)) throw new Error(`${main} is missing: run tsc -p tsconfig.json (make build) before these tests`);
  const metricsPort = await freePort();
  const logPath = operatorLogPath(name);
  const out = openSync(logPath, "a");
  const child = spawn(process.execPath, [...OPERATOR_NODE_FLAGS, main, `--metrics-addr=127.0.0.1:${metricsPort}`, `--identity=${name}`, ...args], {
    env: { ...process.env, KUBECONFIG: adminKubeconfigPath() },
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    metricsPort,
    logPath,
    exited,
    metrics: async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(),
  };
}

/** A metric's value from Prometheus text, summed over label sets that contain `labels`. */
export function metricValue(text: string, name: string, labels = ""): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const m = /^(\S+?)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name || (labels && !(m[2] ?? "").includes(labels))) continue;
    sum += Number(m[3]);
  }
  return sum;
}

/** One event of the API server's audit log, as the tests and benchmarks read it. */
export interface AuditEvent {
  stage?: string;
  verb: string;
  userAgent: string;
  requestURI: string;
  responseStatus?: { code?: number };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
}

function readFrom(path: string, offset: number, size = statSync(path).size): string {
  if (size <= offset) return "";
  const fd = openSync(path, "r");
  const buf = Buffer.alloc(size - offset);
  readSync(fd, buf, 0, buf.length, offset);
  closeSync(fd);
  return buf.toString("utf8");
}

/**
 * Audit events written after `offset` (from auditOffset()), across one rotation of the log (the
 * API server keeps one backup). Only whole lines: the API server may be half-way through the last.
 */
export function auditSince(offset: number): AuditEvent[] {
  const path = auditLogPath();
  const size = statSync(path).size;
  let text: string;
  if (size >= offset) text = readFrom(path, offset, size);
  else {
    const dir = dirname(path);
    const backup = readdirSync(dir)
      .filter((f) => f.startsWith("audit-") && f.endsWith(".log"))
      .sort()
      .at(-1);
    text = (backup ? readFrom(join(dir, backup), offset) : "") + readFrom(path, 0);
  }
  return text
    .slice(0, text.lastIndexOf("\n") + 1)
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEvent);
}
export const auditLogPath = () => join(clusterDir(), "logs", "audit.log");
export const auditOffset = () => statSync(auditLogPath()).size;

export { cluster, readFileSync };

/**
 * Once no operator runs for `namespace`, its McpServers' finalizers would hold the namespace in
 * Terminating for ever: take ours off (a test's namespace is going away with everything in it).
 */
export async function releaseMcpServers(namespace: string): Promise<void> {
  const client = adminClient();
  const { items } = await client.list<McpServerObject>(McpServerType, { namespace });
  await Promise.all(
    items
      .filter((s) => s.metadata.finalizers?.length)
      .map((s) =>
        client
          .request("PATCH", client.path(McpServerType, namespace, s.metadata.name), { metadata: { finalizers: null } }, undefined, "application/merge-patch+json")
          .catch(() => undefined),
      ),
  );
}

/** The operator's verifier identity (the chart creates it): verification mints its tokens for it. */
export async function ensureVerifierAccount(): Promise<void> {
  const [namespace, name] = DEFAULT_VERIFIER_SERVICE_ACCOUNT.split("/") as [string, string];
  await kubectl(["create", "serviceaccount", name, "-n", namespace], { allowFailure: true });
}
