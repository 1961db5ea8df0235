/**
 * What `make run TOOLFLEET_REAL_NODE=1` sets up, from the same module (local/run-on-node.ts):
 * the three domain-server samples as workload McpServers on the real node, from the built
 * images, talking to the real local backends through the node's relays; the operator on this
 * machine with the flags that module gives it. Approved by the three reviewers, each is
 * verified through its Service (ToolsVerified=True) and published; a person signed in on the
 * real identity provider calls a read-only tool of each at its cluster IP and gets the real
 * backend's answer. A person outside the allowed groups, and a token for another audience,
 * are refused by the pods themselves.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { stringify } from "yaml";
import { cluster, deleteNamespace, kubectl } from "../../local/cluster/harness.js";
import { freePort } from "../../local/ports.js";
import { airflowDagIds, sparkAppName, startKeycloak, type KeycloakBackend } from "../../local/backends/harness.js";
import { DOMAIN_SERVERS } from "../../local/domain-servers.js";
import { ensureRealNode, realNodeNamespace, REAL_NODE } from "../../local/node/harness.js";
import { builtImage, clusterIpUrls, prepareNodeRun, type NodeRun } from "../../local/run-on-node.js";
import { SERVER_LABEL } from "../../mcpserver/names.js";
import type { RunningOperator } from "../../operator/operator.js";
import { CLI_CLIENT_ID, MCP_AUDIENCE, REGISTRY_AUDIENCE, UI_CLIENT_ID } from "../../registry-api/demo-identity.js";
import { personAccessToken } from "../../cli/test/provider-browser.js";
import { connectModern } from "../mcp-clients.js";
import { approveWhenPending, conditionsOf, ensureVerifierAccount, getServer, grantRoles, releaseMcpServers, startTestOperator, waitFor } from "../operator/harness.js";

let ns: string;
let provider: KeycloakBackend;
let nodeRun: NodeRun | undefined;
let op: RunningOperator | undefined;
let callback: Server;
let redirectUri: string;

const apply = (docs: object[]) => kubectl(["apply", "-f", "-"], { input: docs.map((d) => stringify(d)).join("---\n") });
const token = (person: string, clientId = CLI_CLIENT_ID) => personAccessToken(provider.issuer, clientId, person, redirectUri);

beforeAll(async () => {
  await ensureRealNode();
  await ensureVerifierAccount();
  provider = await startKeycloak();
  callback = createServer((_req, res) => res.end("signed in"));
  await new Promise<void>((r) => callback.listen(0, "127.0.0.1", r));
  redirectUri = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`;

  ns = await realNodeNamespace("rn-run");
  await grantRoles(ns);
  // No registry listens here: the workloads keep their usage records in their buffers.
  nodeRun = await prepareNodeRun({ namespace: ns, names: DOMAIN_SERVERS, provider, mcpAudience: MCP_AUDIENCE, registry: { port: await freePort(), audience: REGISTRY_AUDIENCE }, saIssuer: cluster().server });
  op = await startTestOperator(ns, [...nodeRun.operatorArgs, "--verify-timeout=5s"]);
  await apply(nodeRun.prerequisites);
  await apply(nodeRun.servers.map((s) => s.manifest));
  for (const name of DOMAIN_SERVERS) await approveWhenPending(ns, name);
}, 20 * 60_000);

afterAll(async () => {
  await op?.stop();
  await nodeRun?.stop();
  await new Promise((r) => callback?.close(r));
  if (ns) {
    await releaseMcpServers(ns);
    await kubectl(["delete", "clusterrolebinding", `toolfleet-run-${ns}-token-review`, "--ignore-not-found"], { allowFailure: true });
    await deleteNamespace(ns);
  }
});

/** The server once published, with its pods (all Ready). */
async function published(name: string) {
  return waitFor(
    `${name} verified (ToolsVerified=True) and published, with both pods Ready`,
    async () => {
      const server = await getServer(ns, name);
      if (!server?.status?.registry?.published || !conditionsOf(server).ToolsVerified?.startsWith("True/")) return undefined;
      const pods = (JSON.parse((await kubectl(["get", "pods", "-n", ns, "-l", `${SERVER_LABEL}=${name}`, "-o", "json"])).stdout) as { items: PodJson[] }).items;
      const ready = pods.filter((p) => p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
      return ready.length === 2 ? { server, pods } : undefined;
    },
    300_000,
    1000,
  );
}

/** Where this machine reaches a published server: its Service's cluster IP. */
async function urlOf(name: string): Promise<string> {
  await published(name);
  const url = (await clusterIpUrls(ns, [name])).get(name);
  if (!url) throw new Error(`${name} has no Service with a cluster IP`);
  return url;
}

interface PodJson {
  spec: { nodeName?: string; containers: Array<{ image: string }> };
  status: { conditions?: { type: string; status: string }[] };
}

describe("make run's domain servers as workloads on the real node", () => {
  it("deploys each sample from its built image to the real node, verifies its tools through the Service and publishes it", async () => {
    for (const name of DOMAIN_SERVERS) {
      const { server, pods } = await published(name);
      expect(conditionsOf(server).ToolsVerified).toBe("True/ToolsMatch");
      expect(pods.length).toBe(2);
      for (const pod of pods) {
        expect(pod.spec.nodeName).toBe(REAL_NODE);
        expect(pod.spec.containers.map((c) => c.image)).toEqual([builtImage(name)]);
      }
    }
  }, 330_000);

  it("answers a signed-in person at the cluster IP with each real backend's data", async () => {
    const ana = await token("ana");
    const calls = { presto: "list_catalogs", spark: "list_applications", airflow: "list_dags" } as const;
    const expected = { presto: "tpch", spark: sparkAppName, airflow: airflowDagIds[0] };
    for (const name of DOMAIN_SERVERS) {
      const client = await connectModern({ url: await urlOf(name), token: ana });
      try {
        const answer = await client.call(calls[name], {});
        expect(answer.isError).toBe(false);
        expect(answer.text).toContain(expected[name]);
      } finally {
        await client.close();
      }
    }
  }, 330_000);

  it("refuses a person outside the allowed groups and a token for another audience", async () => {
    const presto = await urlOf("presto");
    // otto (marketing) is not among the sample's allowed groups: 403, insufficient_scope.
    await expect(connectModern({ url: presto, token: await token("otto") }).then((c) => c.call("list_catalogs", {}))).rejects.toThrow(/403|forbidden|insufficient scope/i);
    // The UI's token carries only the registry's audience.
    await expect(connectModern({ url: presto, token: await token("ana", UI_CLIENT_ID) }).then((c) => c.call("list_catalogs", {}))).rejects.toThrow(/401|unauthorized/i);
  }, 330_000);
});
