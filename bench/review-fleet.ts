/**
 * What the two review benchmarks share (approval-to-published, change-while-serving): a fleet of
 * remote McpServers that verification passes, because each points at a real MCP server on
 * 127.0.0.1 (the SDK's server over Streamable HTTP, one path per McpServer, so each gets a token
 * of its own audience); the operator as its own process, allowed plain http on loopback; the
 * registry in-process; and a consumer polling the registry's list. Prints nothing on stdout.
 */
import { SYSTEM_NAMESPACE, type McpServerSpecInput } from "../crds/index.js";
import { McpServerType, type McpServerObject } from "../mcpserver/type.js";
import { KubeClient, type KubeObject } from "../runtime/index.js";
import { clusterUp } from "../local/cluster/cli.js";
import { deleteNamespace, kubectl, testNamespace, userConfig } from "../local/cluster/harness.js";
import { call, startTestRegistry, type ListBody, type TestRegistry } from "../registry-api/test/fixtures.js";
import { inParallel } from "../test/operator/fleet.js";
import { adminClient, grantRoles, metricValue, releaseMcpServers, spawnOperator, type OperatorProcess } from "../test/operator/harness.js";
import { startRemoteMcpServer, type RemoteMcpServer } from "../test/remote-mcp-server.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the MCP server answers for every path, and what version 2 of each McpServer declares. */
export const TOOL_DESCRIPTIONS = { lookup_order: "Look up an order", refund_order: "Refund an order" } as const;
const CONSUMER_GROUP = "fleet-consumers";

/** The same two tools and their hints on every path. */
const OFFERED = Object.entries(TOOL_DESCRIPTIONS).map(([name, description]) => ({ name, description, readOnly: name === "lookup_order" }));

/**
 * Version 1 declares the tools without descriptions (verification then compares names and
 * hints only); version 2 adds the descriptions the server answers with and a new version number:
 * two reviewed changes that the running server already satisfies.
 */
export function remoteSpec(url: string, version: 1 | 2): McpServerSpecInput {
  return {
    title: "Orders",
    description: "Look up and refund orders",
    version: version === 1 ? "1.0.0" : "1.1.0",
    owner: { team: "commerce", contact: "#orders" },
    remote: { url },
    access: { allowedGroups: [CONSUMER_GROUP] },
    tools: Object.entries(TOOL_DESCRIPTIONS).map(([name, description]) => ({ name, readOnly: name === "lookup_order", ...(version === 2 ? { description } : {}) })),
  };
}

export interface ReviewPlane {
  ns: string;
  registry: TestRegistry;
  operator: OperatorProcess;
  /** The URL of server `name` on the MCP server. */
  url(name: string): string;
  /** The namespace owner, with the editor role. */
  owner: KubeClient;
  /** The registry's list as a consumer sees it (every page): name → version. */
  listed(): Promise<Map<string, string>>;
  /** Every McpServer in the namespace. */
  servers(): Promise<McpServerObject[]>;
  stop(): Promise<void>;
}

/** Starts the control plane (or reuses it), a namespace, the MCP server, the registry and the operator. */
export async function startReviewPlane(prefix: string, progress: (msg: string) => void): Promise<ReviewPlane> {
  await clusterUp();
  const ns = await testNamespace(prefix);
  let mcp: RemoteMcpServer | undefined;
  let registry: TestRegistry | undefined;
  let operator: OperatorProcess | undefined;
  const stop = async () => {
    operator?.child.kill("SIGTERM");
    await operator?.exited;
    await registry?.stop();
    await mcp?.close();
    await releaseMcpServers(ns);
    progress("removing the namespace, so that whatever runs next has a quiet control plane");
    await deleteNamespace(ns, { wait: true });
  };
  try {
    await grantRoles(ns);
    // The operator's identity: verification tokens are minted for this service account.
    await kubectl(["create", "serviceaccount", "toolfleet-operator", "-n", SYSTEM_NAMESPACE], { allowFailure: true });
    mcp = await startRemoteMcpServer({ tools: () => OFFERED });
    const base = mcp.base;
    registry = await startTestRegistry(ns);
    const token = await registry.issuer.userToken("ana", [CONSUMER_GROUP]);
    // The MCP server listens on 127.0.0.1 over plain http: allowed by the flag, as in development.
    operator = await spawnOperator(prefix, [`--namespaces=${ns}`, "--leader-elect=false", "--verify-allow-http=true", "--kube-api-qps=100", "--kube-api-burst=200", "--concurrency=16", "--log-level=warn"]);
    for (let i = 0; i < 300 && (await fetch(`http://127.0.0.1:${operator.metricsPort}/readyz`).then((r) => r.status, () => 0)) !== 200; i++) await sleep(100);
    const reg = registry;
    const op = operator;
    return {
      ns,
      registry: reg,
      operator: op,
      url: (name) => `${base}/${name}/mcp`,
      owner: new KubeClient(userConfig("olga", ["data-platform"]), { qps: 100, burst: 200, userAgent: "bench-owner" }),
      async listed() {
        const out = new Map<string, string>();
        let cursor: string | undefined;
        do {
          const res = await call<ListBody>(reg.registry.url, `/v0.1/servers?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, token);
          if (res.status !== 200) throw new Error(`the registry's list answered ${res.status}`);
          for (const s of res.body.servers) out.set(s.server.name.split("/")[1] ?? "", s.server.version);
          cursor = res.body.metadata.nextCursor;
        } while (cursor);
        return out;
      },
      async servers() {
        return (await adminClient().list<McpServerObject>(McpServerType, { namespace: ns })).items;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The owner creates `names` as remote McpServers (version 1), 16 at a time. */
export async function createServers(plane: ReviewPlane, names: string[]): Promise<void> {
  await inParallel(names.length, 16, (i) => {
    const name = names[i]!;
    return plane.owner.create(McpServerType, { apiVersion: "toolfleet.dev/v1alpha1", kind: "McpServer", metadata: { name, namespace: plane.ns }, spec: remoteSpec(plane.url(name), 1) } as KubeObject);
  });
}

/** Waits until `check` holds for every one of `names`' McpServers, returning them by name. */
export async function waitForServers(plane: ReviewPlane, names: string[], what: string, check: (s: McpServerObject) => boolean, progress: (msg: string) => void, timeoutMs = 120_000): Promise<Map<string, McpServerObject>> {
  const deadline = Date.now() + timeoutMs;
  let shown = -1;
  for (;;) {
    const byName = new Map((await plane.servers()).map((s) => [s.metadata.name, s]));
    const done = names.filter((n) => byName.has(n) && check(byName.get(n)!)).length;
    if (done !== shown) progress(`${done}/${names.length} ${what}`);
    shown = done;
    if (done === names.length) return byName;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: only ${done}/${names.length} ${what}`);
    await sleep(250);
  }
}

/** Waits until the operator's work queue has stayed empty for `quietMs`. */
export async function operatorQuiet(plane: ReviewPlane, quietMs: number): Promise<void> {
  let since = Date.now();
  for (;;) {
    if (metricValue(await plane.operator.metrics(), "toolfleet_workqueue_depth") > 0) since = Date.now();
    else if (Date.now() - since >= quietMs) return;
    await sleep(100);
  }
}
