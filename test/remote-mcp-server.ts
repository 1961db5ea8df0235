/**
 * A real MCP server to register as a remote McpServer: the SDK's McpServer over Streamable HTTP
 * (stateless, JSON responses) on 127.0.0.1, answering on any path. The tools it offers are asked
 * for at each request, so a test can change them between two verifications; each request's path
 * and bearer-token claims are handed to `seen` first (what the operator sent, and to whom).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer as SdkServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { z } from "zod";

export interface OfferedTool {
  name: string;
  /** The name itself unless set. */
  description?: string;
  /** Sent as the readOnlyHint annotation (verification compares it with the declaration). */
  readOnly?: boolean;
  inputSchema?: Record<string, z.ZodType>;
}

/** A request as the server saw it: its path and its bearer token's claims (not verified). */
export interface SeenRequest {
  path: string;
  claims: { sub?: string; aud?: string | string[] };
}

export interface RemoteMcpServerOptions {
  /** The tools offered to this request. */
  tools: (request: SeenRequest) => readonly OfferedTool[];
  /** Called with every request first; an answer it returns is sent instead of the MCP one. */
  seen?: (request: SeenRequest) => { status: number; text: string } | undefined;
  /** Answer 401 to a request without a bearer token (as a protected server does); true unless set. */
  requireBearer?: boolean;
  version?: string;
}

export interface RemoteMcpServer {
  /** http://127.0.0.1:<port> */
  base: string;
  /** The URL of `path` on this server (`/mcp` unless given). */
  url(path?: string): string;
  /** Stops listening and drops open connections (a keep-alive one would hold a close open). */
  close(): Promise<void>;
}

export async function startRemoteMcpServer(options: RemoteMcpServerOptions): Promise<RemoteMcpServer> {
  const server = http.createServer((req, res) => {
    const authorization = req.headers.authorization ?? "";
    if (!authorization.startsWith("Bearer ") && options.requireBearer !== false) {
      res.writeHead(401, { "WWW-Authenticate": "Bearer" }).end();
      return;
    }
    const request: SeenRequest = { path: (req.url ?? "").split("?")[0]!, claims: claimsOf(authorization.replace(/^Bearer /, "")) };
    const answer = options.seen?.(request);
    if (answer) {
      res.writeHead(answer.status, { "content-type": "text/plain" }).end(answer.text);
      return;
    }
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const sdk = new SdkServer({ name: "orders-mcp", version: options.version ?? "1.0.0" });
      for (const tool of options.tools(request)) {
        const config = { description: tool.description ?? tool.name, annotations: { readOnlyHint: tool.readOnly ?? false }, ...(tool.inputSchema ? { inputSchema: tool.inputSchema } : {}) };
        sdk.registerTool(tool.name, config, async () => ({ content: [{ type: "text", text: "ok" }] }));
      }
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on("close", () => void transport.close());
      void sdk
        .connect(transport)
        .then(() => transport.handleRequest(req, res, body ? JSON.parse(body) : undefined))
        .catch(() => res.writeHead(500).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    url: (path = "/mcp") => `${base}${path}`,
    async close() {
      if (!server.listening) return;
      const closed = new Promise((resolve) => server.close(resolve));
      server.closeAllConnections();
      await closed;
    },
  };
}

function claimsOf(token: string): SeenRequest["claims"] {
  try {
    return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8") || "{}") as SeenRequest["claims"];
  } catch {
    return {};
  }
}
