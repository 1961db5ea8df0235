/**
 * The Presto sample McpServer on the real node, from the image the project builds: its owner
 * applies it, the three reviewers approve it, and the operator (on the host, where no cluster
 * DNS resolves the server's URL) deploys it. Its pods start from that image with only what the
 * operator's Deployment gives them, become Ready through their probes, and the operator
 * verifies their tools through the Service (ToolsVerified=True) and publishes the server. Its
 * NetworkPolicy is enforced: a pod of a namespace the policy does not admit cannot connect; a
 * pod running as the allowed service account, with a projected token for the server's
 * audience, calls a read-only tool and gets the real Trino's answer (Trino runs on the host,
 * reached from the pods through a relay on the node's bridge address).
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { lookup } from "node:dns/promises";
import { stringify } from "yaml";
import { cluster, deleteNamespace, kubectl, kubectlAs } from "../../local/cluster/harness.js";
import { freePort } from "../../local/ports.js";
import { startTrino } from "../../local/backends/harness.js";
import { NODE_IP } from "../../local/node/config.js";
import { ensureRealNode, realNodeNamespace, REAL_NODE } from "../../local/node/harness.js";
import { pinnedRef, projectImages } from "../../local/node/images.js";
import { startRelay, type Relay } from "../../local/node/relay.js";
import { SERVER_LABEL } from "../../mcpserver/names.js";
import type { RunningOperator } from "../../operator/operator.js";
import { inNamespace, sample } from "../api/fixtures.js";
import { approveWhenPending, conditionsOf, ensureVerifierAccount, getServer, grantRoles, releaseMcpServers, startTestOperator, waitFor } from "../operator/harness.js";

const NAME = "presto";
const owner = { user: "olga", groups: ["data-platform"] };

let serverNs: string;
let agentsNs: string;
let outsiderNs: string;
let op: RunningOperator | undefined;
let trinoRelay: Relay | undefined;
let prestoImage: string;
let operatorImage: string;
let url: string;

const apply = (docs: object[]) => kubectl(["apply", "-f", "-"], { input: docs.map((d) => stringify(d)).join("---\n") });

interface PodJson {
  metadata: { name: string };
  spec: { nodeName?: string; serviceAccountName?: string; containers: Array<{ name: string; image: string; env?: Array<{ name: string }> }> };
  status: { podIP?: string; conditions?: { type: string; status: string }[]; containerStatuses?: Array<{ imageID: string; restartCount: number; ready: boolean }> };
}

async function serverPods(): Promise<PodJson[]> {
  return (JSON.parse((await kubectl(["get", "pods", "-n", serverNs, "-l", `${SERVER_LABEL}=${NAME}`, "-o", "json"])).stdout) as { items: PodJson[] }).items;
}
const isReady = (p: PodJson) => p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/**
 * A client pod from the operator's image (it carries the MCP client SDK), idle until a test
 * runs the caller in it; with `token`, a projected service-account token for the server's audience.
 */
function clientPod(ns: string, serviceAccount: string, audience: string) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "caller", namespace: ns },
    spec: {
      serviceAccountName: serviceAccount,
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: "caller",
          image: operatorImage,
          command: ["node", "-e", "setInterval(() => {}, 1 << 30)"],
          volumeMounts: [{ name: "mcp-token", mountPath: "/var/run/secrets/mcp", readOnly: true }],
        },
      ],
      volumes: [{ name: "mcp-token", projected: { sources: [{ serviceAccountToken: { audience, expirationSeconds: 600, path: "token" } }] } }],
    },
  };
}

// Runs in a client pod: connects with the SDK's client (the token from the projected volume, or
// none), lists the tools and calls list_catalogs; prints JSON, or FAILED <reason> and exits 3.
const CALLER = (target: string, withToken: boolean) => `
const { readFileSync } = require("node:fs");
(async () => {
  const { Client, StreamableHTTPClientTransport } = await import("@modelcontextprotocol/client");
  const headers = ${withToken} ? { authorization: "Bearer " + readFileSync("/var/run/secrets/mcp/token", "utf8").trim() } : {};
  const transport = new StreamableHTTPClientTransport(new URL(${JSON.stringify(target)}), { requestInit: { headers } });
  const client = new Client({ name: "incident-bot", version: "1.0.0" }, { capabilities: {}, versionNegotiation: { mode: "auto" } });
  try {
    await client.connect(transport, { timeout: 5000, signal: AbortSignal.timeout(8000) });
    const tools = (await client.listTools()).tools.map((t) => t.name).sort();
    const r = await client.callTool({ name: "list_catalogs", arguments: {} }, { timeout: 60000 });
    console.log(JSON.stringify({ tools, isError: r.isError === true, text: r.content.map((c) => c.text ?? "").join("\\n") }));
    await client.close();
  } catch (e) {
    let c = e; let code;
    for (let i = 0; i < 5 && c && !code; i++) { code = typeof c.code === "string" ? c.code : undefined; c = c.cause; }
    console.log("FAILED " + (code ?? (e.status ? "HTTP " + e.status : e.name)) + " " + String(e.message).slice(0, 200));
    process.exit(3);
  }
})();
`;

async function callFrom(ns: string, target: string, withToken: boolean): Promise<string> {
  const r = await kubectl(["exec", "-n", ns, "caller", "--", "node", "-e", CALLER(target, withToken)], { allowFailure: true });
  if (r.code !== 0 && !r.stdout.startsWith("FAILED")) throw new Error(`kubectl exec into ${ns}/caller failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout.trim();
}

async function execIn(ns: string, pod: string, script: string): Promise<{ code: number; out: string }> {
  const r = await kubectl(["exec", "-n", ns, pod, "--", "node", "-e", script], { allowFailure: true });
  return { code: r.code, out: `${r.stdout}${r.stderr}`.trim() };
}

beforeAll(async () => {
  await ensureRealNode();
  await ensureVerifierAccount();
  const images = projectImages();
  const find = (name: string) => {
    const image = images.find((i) => i.ref.startsWith(`localhost/toolfleet/${name}:`));
    if (!image?.digest) throw new Error(`dist/images has no ${name} image: run \`make images\` (make test does)`);
    return pinnedRef(image.ref, image.digest);
  };
  prestoImage = find("toolfleet-presto");
  operatorImage = find("toolfleet-operator");

  // Trino listens on the host's loopback; the pods reach it through the bridge address.
  const trino = await startTrino();
  const relayPort = await freePort();
  trinoRelay = await startRelay({ host: NODE_IP, port: relayPort }, { host: "127.0.0.1", port: Number(new URL(trino.url).port) });

  serverNs = await realNodeNamespace("rn-presto");
  agentsNs = await realNodeNamespace("rn-agents");
  outsiderNs = await realNodeNamespace("rn-outsider");
  url = `http://${NAME}.${serverNs}.svc.cluster.local:8080/mcp`;
  await grantRoles(serverNs);
  await kubectl(["create", "serviceaccount", "incident-bot", "-n", agentsNs]);
  await kubectl(["create", "serviceaccount", "incident-bot", "-n", outsiderNs]);
  // The server checks each service-account token with a TokenReview (the chart grants the same).
  await apply([
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: `${serverNs}-token-review`, labels: { "toolfleet.dev/test": "true" } },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" },
      subjects: [{ kind: "ServiceAccount", name: NAME, namespace: serverNs }],
    },
    clientPod(agentsNs, "incident-bot", url),
    clientPod(outsiderNs, "incident-bot", url),
  ]);

  // The workloads check service-account tokens against the API server's keys, which pods reach at
  // the kubernetes Service's address (there is no cluster DNS to name it).
  op = await startTestOperator(serverNs, [`--sa-issuer=${cluster().server}`, "--sa-jwks-url=https://10.96.0.1/openid/v1/jwks", "--verify-timeout=5s"]);

  const manifest = inNamespace(sample("presto.yaml"), serverNs, NAME);
  const spec = manifest.spec as { workload: { image: string; env: Array<{ name: string; value: string }> }; access: { allowedServiceAccounts: string[] } };
  spec.workload.image = prestoImage;
  spec.workload.env = spec.workload.env.map((e) => (e.name === "PRESTO_URL" ? { ...e, value: `http://${NODE_IP}:${relayPort}` } : e));
  spec.access.allowedServiceAccounts = [`${agentsNs}/incident-bot`];
  await kubectlAs(owner.user, owner.groups, ["create", "-f", "-"], { input: stringify(manifest) });
  await approveWhenPending(serverNs, NAME);
}, 20 * 60_000);

afterAll(async () => {
  await op?.stop();
  await trinoRelay?.close();
  if (serverNs) {
    await releaseMcpServers(serverNs);
    await kubectl(["delete", "clusterrolebinding", `${serverNs}-token-review`, "--ignore-not-found"], { allowFailure: true });
  }
  for (const ns of [serverNs, agentsNs, outsiderNs]) if (ns) await deleteNamespace(ns);
});

describe("an approved sample McpServer on the real node", () => {
  it("runs its pods from the built image with only the operator's settings, Ready through their probes", async () => {
    const pods = await waitFor(
      "both replicas Ready",
      async () => {
        const pods = await serverPods();
        return pods.length === 2 && pods.every(isReady) ? pods : undefined;
      },
      300_000,
      1000,
    );
    const deployment = JSON.parse((await kubectl(["get", "deployment", "-n", serverNs, NAME, "-o", "json"])).stdout) as { spec: { template: { spec: { containers: Array<{ env: Array<{ name: string }> }> } } } };
    const operatorEnv = deployment.spec.template.spec.containers[0]!.env.map((e) => e.name);
    for (const pod of pods) {
      expect(pod.spec.nodeName).toBe(REAL_NODE);
      expect(pod.spec.serviceAccountName).toBe(NAME);
      expect(pod.spec.containers.map((c) => c.image)).toEqual([prestoImage]);
      expect(pod.spec.containers[0]!.env?.map((e) => e.name)).toEqual(operatorEnv);
      expect(pod.status.containerStatuses?.[0]).toMatchObject({ ready: true, restartCount: 0 });
      expect(pod.status.containerStatuses?.[0]?.imageID).toContain(prestoImage.split("@")[1]!);
    }
    expect(operatorEnv).toEqual(expect.arrayContaining(["PRESTO_URL", "TOOLFLEET_POLICY_FILE", "TOOLFLEET_PUBLIC_URL", "TOOLFLEET_SA_ISSUER", "TOOLFLEET_SA_JWKS_URL"]));
    // What the Deployment says is what the process gets: a non-root user and a read-only root.
    const pod = pods[0]!.metadata.name;
    const who = await execIn(serverNs, pod, "console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), url: process.env.TOOLFLEET_PUBLIC_URL }))");
    expect(who.code).toBe(0);
    expect(JSON.parse(who.out)).toEqual({ uid: 65532, gid: 65532, url: `http://${NAME}.${serverNs}.svc.cluster.local:8080` });
    const write = await execIn(serverNs, pod, "require('node:fs').writeFileSync('/app/planted.js', '')");
    expect(write.code).not.toBe(0);
    expect(write.out).toMatch(/EROFS|read-only/);
  }, 360_000);

  it("is verified by the operator through its Service (ToolsVerified=True) and published, with no cluster DNS on the operator's host", async () => {
    // The operator runs here, where the server's cluster name does not resolve.
    await expect(lookup(new URL(url).hostname)).rejects.toMatchObject({ code: expect.stringMatching(/ENOTFOUND|EAI_AGAIN/) });
    const verified = await waitFor(
      "ToolsVerified=True and published",
      async () => {
        const s = await getServer(serverNs, NAME);
        return conditionsOf(s).ToolsVerified?.startsWith("True/") && s?.status?.registry?.published ? s : undefined;
      },
      180_000,
      1000,
    );
    expect(conditionsOf(verified)).toMatchObject({ Reviewed: "True/Approved", Available: "True/MinimumReplicasReady", ToolsVerified: "True/ToolsMatch", Published: "True/Published", Ready: "True/Ready" });
    expect(verified.status!.url).toBe(url);
    expect(verified.status!.readyReplicas).toBe(2);
    const message = verified.status!.conditions!.find((c) => c.type === "ToolsVerified")!.message;
    expect(message).toContain("tools/list matches the 8 declared tools");
  }, 240_000);
});

describe("the server's NetworkPolicy on the real node", () => {
  let clusterIP: string;
  beforeAll(async () => {
    clusterIP = (await kubectl(["get", "service", "-n", serverNs, NAME, "-o", "jsonpath={.spec.clusterIP}"])).stdout.trim();
    await waitFor("the client pods Ready", async () => {
      const ready = async (ns: string) => (await kubectl(["get", "pod", "-n", ns, "caller", "-o", 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'], { allowFailure: true })).stdout.trim() === "True";
      return (await ready(agentsNs)) && (await ready(outsiderNs));
    }, 180_000, 1000);
  }, 240_000);

  it("keeps out a pod of a namespace it does not admit, through the Service and straight to a pod", async () => {
    // No connection at all (not an HTTP refusal): the packets are dropped before the server.
    const noConnection = /^FAILED (?!HTTP)/;
    const denied = await callFrom(outsiderNs, `http://${clusterIP}:8080/mcp`, true);
    expect(denied).toMatch(noConnection);
    expect(denied).not.toMatch(/40[13]/);
    const podIP = (await serverPods())[0]!.status.podIP!;
    const direct = await callFrom(outsiderNs, `http://${podIP}:8080/mcp`, true);
    expect(direct).toMatch(noConnection);
    expect(direct).not.toMatch(/40[13]/);
  }, 120_000);

  it("lets the allowed service account in: it lists its tools and a read-only tool answers from the real Trino", async () => {
    const out = await callFrom(agentsNs, `http://${clusterIP}:8080/mcp`, true);
    expect(out).not.toMatch(/^FAILED/);
    const result = JSON.parse(out) as { tools: string[]; isError: boolean; text: string };
    // The service account is allowed the server, but not cancel_query (data-platform only).
    expect(result.tools).toContain("list_catalogs");
    expect(result.tools).not.toContain("cancel_query");
    expect(result.isError).toBe(false);
    expect(result.text).toContain("tpch");
  }, 120_000);

  it("refuses the allowed namespace's pod without a token: the policy lets it connect, the server wants its identity", async () => {
    const out = await callFrom(agentsNs, `http://${clusterIP}:8080/mcp`, false);
    expect(out).toMatch(/^FAILED .*(401|Unauthorized)/i);
  }, 120_000);
});
