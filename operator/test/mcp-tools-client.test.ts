/**
 * The operator's tool-listing client against real servers: a kit server (which speaks
 * 2026-07-28, so the client does), a server of the SDK's 1.x line that speaks only 2025-11-25
 * (the client falls back), one that refuses the identity, and one nobody listens on.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { listServerTools, ToolsClientError } from "../mcp-tools-client.js";
import { verifyTools } from "../tool-verification.js";
import { saToken, startHarness, VERIFIER, type Harness } from "../../servers/kit/test/fixture.js";

/**
 * How long a kit server may take to answer: its token check goes to the API server, which a
 * loaded CI machine has been seen to stall for many seconds. Not what these tests are about.
 */
const ANSWER_MS = 30_000;

let h: Harness | undefined;
let legacy: Server | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  legacy?.closeAllConnections();
  await new Promise<void>((r) => (legacy ? legacy.close(() => r()) : r()));
  legacy = undefined;
});

/** A 2025-11-25-only server: the SDK's 1.x McpServer over a sessionful Streamable HTTP transport. */
async function startLegacyOnly(): Promise<string> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  legacy = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      void (async () => {
        const id = req.headers["mcp-session-id"];
        let transport = typeof id === "string" ? transports.get(id) : undefined;
        if (!transport) {
          transport = new StreamableHTTPServerTransport({ sessionIdGenerator: randomUUID, onsessioninitialized: (sid) => void transports.set(sid, transport!) });
          const server = new McpServer({ name: "old-timer", version: "0.9.0" });
          server.registerTool("echo", { description: "Says it back" }, () => ({ content: [{ type: "text", text: "echo" }] }));
          await server.connect(transport);
        }
        await transport.handleRequest(req, res, body ? (JSON.parse(body) as unknown) : undefined);
      })();
    });
  });
  await new Promise<void>((r) => legacy!.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(legacy.address() as AddressInfo).port}/mcp`;
}

describe("listServerTools", () => {
  it("speaks 2026-07-28 to a kit server and lists every implemented tool in full to the verifier", async () => {
    h = await startHarness();
    const [ns, name] = VERIFIER.split("/") as [string, string];
    const token = await saToken(h, ns, name);
    const listed = await listServerTools({ url: h.mcpUrl, token: async () => token, timeoutMs: ANSWER_MS });
    expect(listed.protocolVersion).toBe("2026-07-28");
    expect(listed.serverInfo).toEqual({ name: "presto", version: "1.4.0" });
    expect(listed.tools.map((t) => t.name).sort()).toEqual(["flaky", "kill_query", "revenue", "run_query", "slow", "undeclared"]);
    const run = listed.tools.find((t) => t.name === "run_query")!;
    expect(run.inputSchema).toMatchObject({ type: "object", properties: { sql: { type: "string" } } });
    expect(run.annotations).toMatchObject({ readOnlyHint: true });
  });

  it("falls back to 2025-11-25 with a server that speaks only that", async () => {
    const url = await startLegacyOnly();
    const listed = await listServerTools({ url, timeoutMs: ANSWER_MS });
    expect(listed.protocolVersion).toBe("2025-11-25");
    expect(listed.serverInfo).toEqual({ name: "old-timer", version: "0.9.0" });
    expect(listed.tools.map((t) => t.name)).toEqual(["echo"]);
  });

  it("says unauthorized, with the status, when the server refuses the identity", async () => {
    h = await startHarness();
    const err = await listServerTools({ url: h.mcpUrl, timeoutMs: ANSWER_MS }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ToolsClientError);
    expect(err).toMatchObject({ kind: "unauthorized", status: 401 });
    const outsider = await h.cluster.sign({ sub: "system:serviceaccount:elsewhere:nobody", extra: { "kubernetes.io": { namespace: "elsewhere", serviceaccount: { name: "nobody" } } } });
    const forbidden = await listServerTools({ url: h.mcpUrl, token: async () => outsider, timeoutMs: ANSWER_MS }).catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(ToolsClientError);
    expect(forbidden).toMatchObject({ kind: "unauthorized", status: 403 });
  });

  it("says unreachable when nobody listens", async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    await expect(listServerTools({ url: `http://127.0.0.1:${port}/mcp`, timeoutMs: 2000 })).rejects.toMatchObject({ kind: "unreachable" });
  });

  it("is what the operator's verification uses: a kit server verifies with the revision it spoke", async () => {
    h = await startHarness();
    const [ns, name] = VERIFIER.split("/") as [string, string];
    const token = await saToken(h, ns, name);
    const r = await verifyTools({ url: h.mcpUrl, declared: ["run_query", "kill_query", "revenue", "flaky", "slow"].map((name) => ({ name, readOnly: ["run_query", "revenue", "slow"].includes(name) })), token: async () => token, timeoutMs: ANSWER_MS });
    expect(r.outcome).toBe("Mismatch");
    expect(r.message).toBe("tools/list differs from spec.tools (listed but not declared: undeclared)");
    expect(r.serverInfo).toEqual({ name: "presto", version: "1.4.0", protocolVersion: "2026-07-28" });
  });
});
