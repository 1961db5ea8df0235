/**
 * Verification goes only where it should and trusts nothing the server says, against real MCP
 * servers on 127.0.0.1: each server gets a token whose audience is its own URL; a running
 * server that changes a tool's definition after review is unpublished (ToolDefinitionsChanged,
 * naming the tool); metadata, link-local and API-server targets are never contacted; and no
 * condition or Event carries a byte of what a hostile server answered.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { McpServer as SdkServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { SYSTEM_NAMESPACE } from "../../crds/index.js";
import { McpServerType } from "../../mcpserver/type.js";
import type { RunningOperator } from "../../operator/operator.js";
import { CoreTypes, type KubeObject } from "../../runtime/index.js";
import { adminConfig, deleteNamespace, kubectl, testNamespace } from "../../local/cluster/harness.js";
import { adminClient, conditionOf, getServer, grantRoles, releaseMcpServers, review, startTestOperator, waitFor } from "./harness.js";

const SECRET = "zz-body-secret";
/** Audiences of the tokens each path received. */
const audiences = new Map<string, Set<string>>();
let extraParameter = false;
let mcp: http.Server;
let base: string;
let ns: string;
let op: RunningOperator;

function startMcpServer(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0]!;
    const token = (req.headers.authorization ?? "").replace(/^Bearer /, "");
    const payload = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8") || "{}") as { aud?: string[] };
    if (!audiences.has(path)) audiences.set(path, new Set());
    for (const a of payload.aud ?? []) audiences.get(path)!.add(a);
    if (path.startsWith("/hostile")) {
      res.writeHead(500, { "content-type": "text/plain" }).end(`${SECRET} stack trace and internal addresses`);
      return;
    }
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const sdk = new SdkServer({ name: "orders-mcp", version: "1.0.0" });
      const inputSchema: Record<string, z.ZodType> = extraParameter ? { id: z.string(), force: z.boolean() } : { id: z.string() };
      sdk.registerTool("lookup_order", { description: "Look up an order", inputSchema, annotations: { readOnlyHint: true } }, async () => ({ content: [{ type: "text", text: "ok" }] }));
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

async function remoteServer(name: string, url: string): Promise<void> {
  await adminClient().create(McpServerType, {
    apiVersion: "toolfleet.dev/v1alpha1",
    kind: "McpServer",
    metadata: { name, namespace: ns },
    spec: {
      title: "Orders",
      description: "Look up orders",
      version: "1.0.0",
      owner: { team: "commerce", contact: "#orders" },
      remote: { url },
      access: { allowedGroups: ["support"] },
      tools: [{ name: "lookup_order", description: "Look up an order", readOnly: true }],
    },
  } as never);
  const hash = await waitFor(`${name}'s specHash`, async () => (await getServer(ns, name))?.status?.specHash);
  await review(ns, name, "security", hash);
}

beforeAll(async () => {
  mcp = await startMcpServer();
  base = `http://127.0.0.1:${(mcp.address() as AddressInfo).port}`;
  ns = await testNamespace("op-verify");
  await grantRoles(ns);
  await kubectl(["create", "serviceaccount", "toolfleet-operator", "-n", SYSTEM_NAMESPACE], { allowFailure: true });
  op = await startTestOperator(ns, ["--verify-interval=1s", "--required-reviews=security", "--verify-allow-http=true"]);
}, 60_000);

afterAll(async () => {
  await op?.stop();
  await releaseMcpServers(ns);
  if (mcp?.listening) {
    mcp.closeAllConnections();
    await new Promise((r) => mcp.close(r));
  }
  await deleteNamespace(ns);
});

describe("verification", () => {
  it("gives each server a token for its own URL only", async () => {
    await remoteServer("a", `${base}/a/mcp`);
    await remoteServer("b", `${base}/b/mcp`);
    for (const name of ["a", "b"]) await waitFor(`${name} published`, async () => (await getServer(ns, name))?.status?.registry?.published === true);
    expect([...audiences.get("/a/mcp")!]).toEqual([`${base}/a/mcp`]);
    expect([...audiences.get("/b/mcp")!]).toEqual([`${base}/b/mcp`]);
  }, 60_000);

  it("pins the tool definitions and unpublishes a server whose definitions change without a new revision", async () => {
    const pinned = await waitFor("definitions pinned", async () => (await getServer(ns, "a"))?.status?.toolDefinitions);
    expect(pinned.digest).toMatch(/^[a-f0-9]{64}$/);
    extraParameter = true;
    const s = await waitFor("ToolDefinitionsChanged", async () => {
      const s = await getServer(ns, "a");
      return conditionOf(s, "ToolsVerified")?.reason === "ToolDefinitionsChanged" ? s : undefined;
    });
    expect(s.status!.registry!.published).toBe(false);
    expect(conditionOf(s, "Published")!.reason).toBe("ToolDefinitionsChanged");
    expect(s.status!.toolDefinitions!.digest).toBe(pinned.digest);
    expect(s.status!.toolDefinitions!.changed!.join(" ")).toContain("lookup_order");
  }, 60_000);

  it.each([
    ["cloud metadata", "https://169.254.169.254/latest/mcp"],
    ["a link-local address", "https://[fe80::1]/mcp"],
    ["the API server's Service name", "https://kubernetes.default.svc/mcp"],
    ["the API server itself", `${new URL(adminConfig().getCurrentCluster()!.server).origin}/mcp`],
  ])("never contacts %s", async (_what, url) => {
    const name = `refused-${Math.random().toString(36).slice(2, 7)}`;
    await remoteServer(name, url);
    const s = await waitFor(`${name} refused`, async () => {
      const s = await getServer(ns, name);
      return conditionOf(s, "Available")?.reason === "TargetRefused" ? s : undefined;
    });
    expect(s.status!.registry!.published).toBe(false);
    expect(conditionOf(s, "Available")!.message).toMatch(/^not contacted: /);
  }, 60_000);

  it("puts no byte of a hostile server's answer into a condition or an Event, only the failure class and HTTP status", async () => {
    await remoteServer("hostile", `${base}/hostile/mcp`);
    const s = await waitFor("a failed handshake", async () => {
      const s = await getServer(ns, "hostile");
      return conditionOf(s, "ToolsVerified")?.reason === "HandshakeFailed" ? s : undefined;
    });
    expect(conditionOf(s, "ToolsVerified")!.message).toMatch(/HTTP 500|protocol error/);
    expect(JSON.stringify(s.status)).not.toContain(SECRET);
    const events = await adminClient().list<KubeObject & { message?: string }>(CoreTypes.Event, { namespace: ns });
    expect(events.items.length).toBeGreaterThan(0);
    expect(events.items.filter((e) => (e.message ?? "").includes(SECRET))).toEqual([]);
  }, 60_000);
});
