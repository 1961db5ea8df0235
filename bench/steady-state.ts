/**
 * Steady state: an operator over 1,000 and then 5,000 unchanged McpServers (each with its five
 * children) resyncs them all; the figure is how many writes that resync sends (target 0),
 * counted by the operator itself and cross-checked in the API server's audit log, and the
 * operator's peak RSS. The servers await review (0 replicas), so the fake node carries no
 * pods and the figures are the operator's own.
 *   node dist/bench/steady-state.js            BENCH_STEADY_SIZES=1000,5000
 * stdout: `bench idle-resync-writes-<n>: …`, `bench operator-rss-<n>: … MB`; stderr: progress.
 */
import { readFileSync } from "node:fs";
import { McpServerType } from "../mcpserver/type.js";
import type { KubeObject } from "../runtime/index.js";
import { clusterUp } from "../local/cluster/cli.js";
import { deleteNamespace, testNamespace } from "../local/cluster/harness.js";
import { ensureCreated, fleetSpec, inParallel } from "../test/operator/fleet.js";
import { adminClient, auditOffset, auditSince, metricValue, releaseMcpServers, spawnOperator, type OperatorProcess } from "../test/operator/harness.js";

const SIZES = (process.env.BENCH_STEADY_SIZES ?? "1000,5000").split(",").map(Number);
const RESYNC = "30s";
const progress = (msg: string) => process.stderr.write(`[steady-state] ${msg}\n`);
const out = (line: string) => process.stdout.write(`bench ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Peak resident set (VmHWM) of a process, in MB. */
function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

async function metric(op: OperatorProcess, name: string, labels = ""): Promise<number> {
  return metricValue(await op.metrics(), name, labels);
}

/** Waits until the operator has written nothing for `quietMs` and its queue is empty. */
async function settle(op: OperatorProcess, quietMs: number): Promise<void> {
  let last = -1;
  let since = Date.now();
  for (;;) {
    const [writes, depth] = await Promise.all([metric(op, "toolfleet_api_writes"), metric(op, "toolfleet_workqueue_depth")]);
    if (writes !== last || depth > 0) {
      last = writes;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
    await sleep(1000);
  }
}

async function measure(ns: string, n: number): Promise<void> {
  const userAgent = `toolfleet-operator-steady-${n}`;
  // A fresh process per size: its peak RSS is that size's.
  const op = await spawnOperator(`steady-${n}`, [`--namespaces=${ns}`, "--leader-elect=false", "--kube-api-qps=300", "--kube-api-burst=600", "--concurrency=16", `--resync-period=${RESYNC}`, "--log-level=warn", `--user-agent=${userAgent}`]);
  try {
    for (let i = 0; i < 600 && (await fetch(`http://127.0.0.1:${op.metricsPort}/readyz`).then((r) => r.status, () => 0)) !== 200; i++) await sleep(200);
    progress(`${n}: operator started; reconciling the fleet until it is quiet`);
    await waitForPhase(op, n);
    await settle(op, 5_000);
    const writes0 = await metric(op, "toolfleet_api_writes");
    const reconciles0 = await metric(op, "toolfleet_reconcile_total");
    const offset = auditOffset();
    progress(`${n}: settled after ${writes0} writes; waiting for a full resync (every ${RESYNC})`);
    for (;;) {
      if ((await metric(op, "toolfleet_reconcile_total")) - reconciles0 >= n) break;
      await sleep(1000);
    }
    await settle(op, 3_000);
    const writes = (await metric(op, "toolfleet_api_writes")) - writes0;
    const audited = auditSince(offset).filter((e) => e.userAgent.startsWith(userAgent)).length;
    progress(`${n}: resync reconciled ${(await metric(op, "toolfleet_reconcile_total")) - reconciles0} keys; writes by the operator's count ${writes}, in the audit log ${audited}`);
    out(`idle-resync-writes-${n}: ${Math.max(writes, audited)} (target 0)`);
    out(`operator-rss-${n}: ${peakRssMb(op.child.pid!)} MB (target <= 150 MB)`);
  } finally {
    op.child.kill("SIGTERM");
    await op.exited;
  }
}

/** Every server has been reconciled into PendingReview. */
async function waitForPhase(op: OperatorProcess, n: number): Promise<void> {
  let shown = -1;
  for (;;) {
    const k = await metric(op, "toolfleet_mcpservers", 'phase="PendingReview"');
    if (k !== shown && (k % 500 === 0 || k === n)) progress(`  ${k}/${n} reconciled`);
    shown = k;
    if (k >= n) return;
    await sleep(1000);
  }
}

async function main(): Promise<void> {
  await clusterUp();
  const ns = await testNamespace("bench-steady");
  const admin = adminClient();
  let created = 0;
  try {
    for (const n of SIZES) {
      progress(`creating servers ${created}..${n - 1}`);
      await inParallel(n - created, 32, (j) => {
        const i = created + j;
        return ensureCreated(admin, McpServerType, { apiVersion: "toolfleet.dev/v1alpha1", kind: "McpServer", metadata: { name: `s${i}`, namespace: ns }, spec: fleetSpec(i) } as KubeObject);
      });
      created = n;
      await measure(ns, n);
    }
  } finally {
    await releaseMcpServers(ns);
    progress("removing the namespace, so that whatever runs next has a quiet control plane");
    await deleteNamespace(ns, { wait: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`[steady-state] failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
