/**
 * What only real pods show, on the local control plane's real node (started by this suite
 * through local/node/harness.ts when it is not running, then reused): a pod from a locally
 * built image starts with the environment it is given and becomes Ready through its HTTP
 * probes; its ClusterIP Service answers from the host (kube-proxy) and from another pod; a
 * NetworkPolicy is enforced (a pod in a namespace it does not allow cannot connect, an
 * allowed one can); and pods of a namespace that did not opt in never land on the real node.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { stringify } from "yaml";
import { deleteNamespace, kubectl, testNamespace, FAKE_NODE } from "../../local/cluster/harness.js";
import { ensureRealNode, nodeImageRef, realNodeNamespace, REAL_NODE } from "../../local/node/harness.js";
import { waitFor } from "../operator/harness.js";

// An HTTP server in plain Node: /env answers with the environment it was given, /ready turns
// true only after READY_AFTER_MS (so Ready is the probe's doing), /healthz for liveness.
const SERVER = `
const http = require("node:http");
const started = Date.now();
http.createServer((req, res) => {
  if (req.url === "/healthz") return res.end("ok");
  if (req.url === "/ready") { res.statusCode = Date.now() - started > Number(process.env.READY_AFTER_MS) ? 200 : 503; return res.end(); }
  if (req.url === "/env") { res.setHeader("content-type", "application/json"); return res.end(JSON.stringify({ greeting: process.env.GREETING, pod: process.env.HOSTNAME })); }
  res.statusCode = 404; res.end();
}).listen(8080);
`;
// Fetches a URL from inside a pod: prints the body, or FAILED <reason> and exits 3.
const FETCH = (url: string) =>
  `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(3000) }).then(r => r.text()).then(t => console.log(t), e => { console.log("FAILED " + (e.cause?.code ?? e.name)); process.exit(3); })`;
const SLEEP = "setInterval(() => {}, 1 << 30)";

let image: string;
let serverNs: string;
let allowedNs: string;
let deniedNs: string;
let kwokNs: string;

const apply = (docs: object[]) => kubectl(["apply", "-f", "-"], { input: docs.map((d) => stringify(d)).join("---\n") });

function nodePod(ns: string, name: string, script: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: "main", image, imagePullPolicy: "Never", args: ["-e", script], ...extra }],
    },
  };
}

async function podJson(ns: string, name: string): Promise<{ spec: { nodeName?: string }; status: { podIP?: string; phase?: string; conditions?: { type: string; status: string }[]; containerStatuses?: { restartCount: number }[] } }> {
  return JSON.parse((await kubectl(["get", "pod", "-n", ns, name, "-o", "json"])).stdout);
}

const ready = async (ns: string, name: string) => (await podJson(ns, name)).status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/** Runs a fetch inside a pod with `kubectl exec`; the body, or `FAILED <reason>`. */
async function fetchFrom(ns: string, pod: string, url: string): Promise<string> {
  const r = await kubectl(["exec", "-n", ns, pod, "--", "/usr/local/bin/node", "-e", FETCH(url)], { allowFailure: true });
  if (r.code !== 0 && !r.stdout.startsWith("FAILED")) throw new Error(`kubectl exec into ${ns}/${pod} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout.trim();
}

let clusterIP: string;

beforeAll(async () => {
  await ensureRealNode();
  image = nodeImageRef();
  serverNs = await realNodeNamespace("rn-server");
  allowedNs = await realNodeNamespace("rn-allowed", { "toolfleet.dev/test-access": "allowed" });
  deniedNs = await realNodeNamespace("rn-denied");
  kwokNs = await testNamespace("rn-kwok");
  await apply([
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "echo", namespace: serverNs },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: "echo" } },
        template: {
          metadata: { labels: { app: "echo" } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [
              {
                name: "echo",
                image,
                imagePullPolicy: "Never",
                args: ["-e", SERVER],
                env: [
                  { name: "GREETING", value: "hello from a real pod" },
                  { name: "READY_AFTER_MS", value: "1500" },
                ],
                ports: [{ containerPort: 8080, name: "http" }],
                readinessProbe: { httpGet: { path: "/ready", port: "http" }, periodSeconds: 1 },
                livenessProbe: { httpGet: { path: "/healthz", port: "http" }, periodSeconds: 5 },
              },
            ],
          },
        },
      },
    },
    { apiVersion: "v1", kind: "Service", metadata: { name: "echo", namespace: serverNs }, spec: { selector: { app: "echo" }, ports: [{ port: 80, targetPort: "http" }] } },
    nodePod(allowedNs, "client", SLEEP),
    nodePod(deniedNs, "client", SLEEP),
  ]);
  clusterIP = (await kubectl(["get", "service", "-n", serverNs, "echo", "-o", "jsonpath={.spec.clusterIP}"])).stdout.trim();
  await waitFor("the client pods Ready", async () => (await ready(allowedNs, "client")) && (await ready(deniedNs, "client")), 120_000, 500);
}, 20 * 60_000);

afterAll(async () => {
  for (const ns of [serverNs, allowedNs, deniedNs, kwokNs]) if (ns) await deleteNamespace(ns);
});

describe("a pod on the real node", () => {
  it("starts from the locally built image on the real node and becomes Ready through its probes", async () => {
    const pod = await waitFor(
      "the echo pod Ready",
      async () => {
        const name = (await kubectl(["get", "pods", "-n", serverNs, "-l", "app=echo", "-o", "jsonpath={.items[0].metadata.name}"])).stdout.trim();
        return name && (await ready(serverNs, name)) ? name : undefined;
      },
      120_000,
      500,
    );
    const p = await podJson(serverNs, pod);
    expect(p.spec.nodeName).toBe(REAL_NODE);
    expect(p.status.podIP).toMatch(/^10\.88\./);
    expect(p.status.containerStatuses?.[0]?.restartCount).toBe(0);
    // The probe really runs: the container's own log is reachable through the kubelet.
    const logs = await kubectl(["logs", "-n", serverNs, pod], { allowFailure: true });
    expect(logs.code).toBe(0);
  }, 180_000);

  it("answers through its ClusterIP Service from the host, with the environment it was given", async () => {
    const body = await waitFor(
      "the Service answering from the host",
      async () => {
        const res = await fetch(`http://${clusterIP}/env`, { signal: AbortSignal.timeout(3000) });
        return res.ok ? ((await res.json()) as { greeting: string; pod: string }) : undefined;
      },
      60_000,
      500,
    );
    expect(clusterIP).toMatch(/^10\.96\./);
    expect(body.greeting).toBe("hello from a real pod");
  }, 180_000);

  it("answers through its Service from another pod while no NetworkPolicy selects it", async () => {
    const url = `http://${clusterIP}/env`;
    expect(JSON.parse(await fetchFrom(allowedNs, "client", url)).greeting).toBe("hello from a real pod");
    expect(JSON.parse(await fetchFrom(deniedNs, "client", url)).greeting).toBe("hello from a real pod");
  }, 180_000);

  it("is unreachable from a namespace its NetworkPolicy does not allow, and reachable from one it does", async () => {
    await apply([
      {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "echo", namespace: serverNs },
        spec: {
          podSelector: { matchLabels: { app: "echo" } },
          policyTypes: ["Ingress"],
          ingress: [{ from: [{ namespaceSelector: { matchLabels: { "toolfleet.dev/test-access": "allowed" } } }], ports: [{ port: 8080 }] }],
        },
      },
    ]);
    const url = `http://${clusterIP}/env`;
    const refused = await waitFor("the policy enforced for the denied namespace", async () => {
      const out = await fetchFrom(deniedNs, "client", url);
      return out.startsWith("FAILED") ? out : undefined;
    }, 60_000, 500);
    expect(refused).toMatch(/^FAILED/);
    // Directly to the pod IP, not only through the Service.
    const podIP = (await kubectl(["get", "pods", "-n", serverNs, "-l", "app=echo", "-o", "jsonpath={.items[0].status.podIP}"])).stdout.trim();
    expect(await fetchFrom(deniedNs, "client", `http://${podIP}:8080/env`)).toMatch(/^FAILED/);
    expect(JSON.parse(await fetchFrom(allowedNs, "client", url)).greeting).toBe("hello from a real pod");
    expect(JSON.parse(await fetchFrom(allowedNs, "client", `http://${podIP}:8080/env`)).greeting).toBe("hello from a real pod");
    // The node itself (its kubelet's probes, the host through kube-proxy) is still let in.
    const res = await fetch(`http://${clusterIP}/env`, { signal: AbortSignal.timeout(3000) });
    expect(res.status).toBe(200);
    const pod = (await kubectl(["get", "pods", "-n", serverNs, "-l", "app=echo", "-o", "jsonpath={.items[0].metadata.name}"])).stdout.trim();
    expect(await ready(serverNs, pod)).toBe(true);
  }, 180_000);
});

describe("the kwok suites' pods", () => {
  it("stay on the kwok node: a namespace that did not opt in never reaches the tainted real node", async () => {
    await apply([nodePod(kwokNs, "stays-on-kwok", SLEEP)]);
    const node = await waitFor("the pod scheduled", async () => (await podJson(kwokNs, "stays-on-kwok")).spec.nodeName, 60_000, 250);
    expect(node).toBe(FAKE_NODE);
  }, 180_000);
});
