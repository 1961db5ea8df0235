/**
 * Tool verification against a real MCP server: the SDK's McpServer over Streamable HTTP on
 * 127.0.0.1, registered as a remote McpServer. Verified while it lists exactly the declared
 * tools; False and unpublished as soon as it offers one more. The operator calls with a
 * service-account token it minted for itself.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer as SdkServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { SYSTEM_NAMESPACE } from "../../crds/index.js";
import { McpServerType } from "../../mcpserver/type.js";
import type { RunningOperator } from "../../operator/operator.js";
import { deleteNamespace, kubectl, testNamespace } from "../../local/cluster/harness.js";
import { adminClient, conditionsOf, getServer, grantRoles, review, startTestOperator, waitFor, releaseMcpServers } from "./harness.js";

const DECLARED = ["lookup_order", "refund_order"];
let offered = [...DECLARED];
const bearerSubjects: string[] = [];
let mcp: http.Server;
let url: string;
let ns: string;
let op: RunningOperator;

/** A stateless MCP server that offers whatever `offered` holds at the time of the request. */
function startMcpServer(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const auth = req.headers.authorization ?? "";
    const token = auth.startsWith("Bearer ") ? auth.slice(7) : "";
    if (!token) {
      res.writeHead(401, { "WWW-Authenticate": "Bearer" }).end();
      return;
    }
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8") || "{}") as { sub?: string };
    bearerSubjects.push(payload.sub ?? "");
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const sdk = new SdkServer({ name: "orders-mcp", version: "2.3.4" });
      // Hints as the kit sets them: readOnlyHint for the tools declared readOnly (verification compares them).
      for (const name of offered) sdk.registerTool(name, { description: name, annotations: { readOnlyHint: name === "lookup_order" } }, async () => ({ content: [{ type: "text", text: "ok" }] }));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on("close", () => void transport.close());
      void sdk
        .connect(transport)
        .then(() => transport.handleRequest(req, res, body ? JSON.parse(body) : undefined))
        .catch(() => res.writeHead(500).end());
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

beforeAll(async () => {
  mcp = await startMcpServer();
  url = `http://127.0.0.1:${(mcp.address() as AddressInfo).port}/mcp`;
  ns = await testNamespace("op-remote");
  await grantRoles(ns);
  // The operator's identity: tokens are minted for this service account.
  await kubectl(["create", "serviceaccount", "toolfleet-operator", "-n", SYSTEM_NAMESPACE], { allowFailure: true });
  // The test server listens on 127.0.0.1 over plain http: allowed here, as in development.
  op = await startTestOperator(ns, ["--verify-interval=1s", "--required-reviews=security", "--verify-allow-http=true"]);
  await adminClient().create(McpServerType, {
    apiVersion: "toolfleet.dev/v1alpha1",
    kind: "McpServer",
    metadata: { name: "orders", namespace: ns },
    spec: {
      title: "Orders",
      description: "Look up and refund orders",
      version: "2.3.4",
      owner: { team: "commerce", contact: "#orders" },
      remote: { url },
      access: { allowedGroups: ["support"] },
      tools: DECLARED.map((name) => ({ name, readOnly: name === "lookup_order" })),
    },
  } as never);
}, 60_000);

afterAll(async () => {
  await op?.stop();
  await releaseMcpServers(ns);
  if (mcp?.listening) await new Promise((r) => mcp.close(r));
  await deleteNamespace(ns);
});

describe("tool verification of a remote server", () => {
  it("verifies the tools a real MCP server lists, and publishes it once approved", async () => {
    const first = await waitFor("a specHash", async () => (await getServer(ns, "orders"))?.status?.specHash);
    await review(ns, "orders", "security", first);
    const s = await waitFor("Published=True", async () => {
      const s = await getServer(ns, "orders");
      return s?.status?.registry?.published ? s : undefined;
    });
    expect(conditionsOf(s)).toMatchObject({ Reviewed: "True/Approved", Available: "True/Reachable", ToolsVerified: "True/ToolsMatch", Published: "True/Published", Ready: "True/Ready" });
    expect(s.status!.url).toBe(url);
    expect(s.status!.serverInfo).toMatchObject({ name: "orders-mcp", version: "2.3.4" });
    expect(s.status!.serverInfo!.protocolVersion).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(s.status!.tools).toEqual(DECLARED.map((name) => ({ name, declared: true, discovered: true })));
    expect(s.status!.readyReplicas).toBeUndefined();
    expect(bearerSubjects.length).toBeGreaterThan(0);
    expect(new Set(bearerSubjects)).toEqual(new Set([`system:serviceaccount:${SYSTEM_NAMESPACE}:toolfleet-operator`]));
  }, 60_000);

  it("sets ToolsVerified=False and unpublishes when the server offers an undeclared tool", async () => {
    offered = [...DECLARED, "delete_customer"];
    const s = await waitFor("ToolsVerified=False", async () => {
      const s = await getServer(ns, "orders");
      return s?.status?.conditions?.find((c) => c.type === "ToolsVerified")?.status === "False" ? s : undefined;
    });
    expect(conditionsOf(s)).toMatchObject({ ToolsVerified: "False/ToolsMismatch", Published: "False/ToolsMismatch" });
    expect(s.status!.registry!.published).toBe(false);
    expect(s.status!.phase).toBe("Degraded");
    expect(s.status!.tools).toContainEqual({ name: "delete_customer", declared: false, discovered: true });
    expect(s.status!.conditions!.find((c) => c.type === "ToolsVerified")!.message).toContain("listed but not declared: delete_customer");
  }, 30_000);

  it("reports an unreachable server as Unavailable and unverified, never as verified", async () => {
    const closed = new Promise((r) => mcp.close(r));
    mcp.closeAllConnections(); // keep-alive connections would hold close() open
    await closed;
    const s = await waitFor(
      "Available=False",
      async () => {
        const s = await getServer(ns, "orders");
        return s?.status?.conditions?.find((c) => c.type === "Available")?.status === "False" ? s : undefined;
      },
      60_000,
    );
    expect(conditionsOf(s)).toMatchObject({ Available: "False/Unreachable", ToolsVerified: "Unknown/NotAvailable", Published: "False/NotAvailable" });
  }, 90_000);
});
