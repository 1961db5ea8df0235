/**
 * The verifier's tokens, minted with the TokenRequest API (a real client against a stand-in API
 * server over HTTP): one request per audience while the token lives, and, when the verifier
 * account is missing, one request per 30 s for the whole fleet instead of one per verification.
 */
import { afterEach, describe, expect, it, jest } from "@jest/globals";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createLogger } from "../../common/log.js";
import { KubeClient } from "../../runtime/index.js";
import type { ConnectionConfig } from "../../runtime/kubeconfig.js";
import { MISSING_ACCOUNT_RETRY_MS, TokenRequestSource } from "../verifier-token.js";

let server: Server | undefined;
afterEach(async () => {
  jest.restoreAllMocks();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** Answers TokenRequests with a token for the asked audience, or 404 while `exists()` is false; counts them. */
async function apiServer(exists: () => boolean): Promise<{ client: KubeClient; asked: string[] }> {
  const asked: string[] = [];
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const audience = (JSON.parse(body) as { spec: { audiences: string[] } }).spec.audiences[0]!;
      asked.push(audience);
      res.setHeader("content-type", "application/json");
      if (!exists()) {
        res.statusCode = 404;
        return res.end(JSON.stringify({ kind: "Status", reason: "NotFound", message: 'serviceaccounts "toolfleet-operator" not found' }));
      }
      res.end(JSON.stringify({ kind: "TokenRequest", status: { token: `token-for-${audience}`, expirationTimestamp: new Date(Date.now() + 3600_000).toISOString() } }));
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  const config: ConnectionConfig = { getCurrentCluster: () => ({ server: `http://127.0.0.1:${(server!.address() as AddressInfo).port}` }), applyToHTTPSOptions: async () => {} };
  return { client: new KubeClient(config, { qps: 1000, burst: 1000 }), asked };
}

const quiet = createLogger({}, { sink: () => {} });

describe("the verifier's tokens", () => {
  it("mints one token per audience (the server it is for) and reuses it", async () => {
    const { client, asked } = await apiServer(() => true);
    const tokens = new TokenRequestSource(client, "toolfleet-system/toolfleet-operator", quiet);
    expect(await tokens.tokenFor("http://a.ns.svc:8080/mcp")).toBe("token-for-http://a.ns.svc:8080/mcp");
    expect(await tokens.tokenFor("http://a.ns.svc:8080/mcp")).toBe("token-for-http://a.ns.svc:8080/mcp");
    expect(await tokens.tokenFor("http://b.ns.svc:8080/mcp")).toBe("token-for-http://b.ns.svc:8080/mcp");
    expect(asked).toEqual(["http://a.ns.svc:8080/mcp", "http://b.ns.svc:8080/mcp"]);
  });

  it("asks for a missing account once per 30 s, not once per server, and mints again once it exists", async () => {
    let exists = false;
    const { client, asked } = await apiServer(() => exists);
    const tokens = new TokenRequestSource(client, "toolfleet-system/toolfleet-operator", quiet);
    let now = Date.now();
    jest.spyOn(Date, "now").mockImplementation(() => now);
    for (let i = 0; i < 50; i++) expect(await tokens.tokenFor(`http://s${i}.ns.svc:8080/mcp`)).toBeUndefined();
    expect(asked).toHaveLength(1);
    exists = true;
    now += MISSING_ACCOUNT_RETRY_MS - 1;
    expect(await tokens.tokenFor("http://s1.ns.svc:8080/mcp")).toBeUndefined();
    expect(asked).toHaveLength(1);
    now += 1;
    expect(await tokens.tokenFor("http://s1.ns.svc:8080/mcp")).toBe("token-for-http://s1.ns.svc:8080/mcp");
    expect(asked).toHaveLength(2);
  });
});
