/**
 * Verification connects to exactly the address that passed its check: two MCP servers listen on
 * the same port of two loopback addresses, and a lookup that answers the first address once and
 * the second ever after (a DNS rebinding) never moves the connection to the second. The URL's
 * name is kept: the Host header and, over TLS, the server name (SNI) are the name, not the address.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer as createTlsServer, type Server as TlsServer } from "node:tls";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { listServerTools } from "../mcp-tools-client.js";
import { pinnedConnection } from "../pinned-connection.js";
import { verifyTools } from "../tool-verification.js";
import { guardedLookup, ownServiceResolver, type TargetPolicy } from "../verification-target.js";

const servers: Array<Server | TlsServer> = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    if ("closeAllConnections" in s) s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

interface ToolServer {
  port: number;
  /** The Host header of every request it received. */
  hosts: string[];
}

/** A stateless MCP server on `address:port` (port 0: any) offering one tool named `tool`. */
async function startToolServer(address: string, port: number, tool: string): Promise<ToolServer> {
  const hosts: string[] = [];
  const server = createServer((req, res) => {
    hosts.push(req.headers.host ?? "");
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      void (async () => {
        const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
        const mcp = new McpServer({ name: tool, version: "1.0.0" });
        mcp.registerTool(tool, { description: tool, annotations: { readOnlyHint: true } }, () => ({ content: [{ type: "text", text: tool }] }));
        await mcp.connect(transport);
        await transport.handleRequest(req, res, body ? (JSON.parse(body) as unknown) : undefined);
      })();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, address, resolve);
  });
  return { port: (server.address() as AddressInfo).port, hosts };
}

/** Two servers on one port: the checked one at 127.0.0.1, the one a later answer points to at 127.0.0.2. */
async function checkedAndRebound() {
  const checked = await startToolServer("127.0.0.1", 0, "checked_tool");
  const rebound = await startToolServer("127.0.0.2", checked.port, "rebound_tool");
  return { checked, rebound };
}

/** A lookup answering `first` on its first call and `later` on every other. */
function rebinding(first: string, later: string) {
  const calls: string[] = [];
  const resolve = async (host: string) => {
    calls.push(host);
    return [calls.length === 1 ? first : later];
  };
  return { resolve, calls };
}

describe("a verification's connection", () => {
  it("stays on the address its lookup answered first, while later lookups answer another", async () => {
    const { checked, rebound } = await checkedAndRebound();
    const { resolve, calls } = rebinding("127.0.0.1", "127.0.0.2");
    const url = `http://mcp.rebinding.test:${checked.port}/mcp`;
    const listed = await listServerTools({ url, timeoutMs: 5000, lookup: resolve });
    expect(listed.tools.map((t) => t.name)).toEqual(["checked_tool"]);
    expect(calls).toEqual(["mcp.rebinding.test"]);
    expect(rebound.hosts).toEqual([]);
    // Several requests (discover or initialize, then tools/list), every one with the name as Host.
    expect(checked.hosts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(checked.hosts)).toEqual(new Set([`mcp.rebinding.test:${checked.port}`]));
  });

  it("through the address check: a name checked at a permitted address is verified there, not where it rebinds to", async () => {
    const { checked, rebound } = await checkedAndRebound();
    // The second answer would be refused by the check; it is never asked for.
    const { resolve, calls } = rebinding("127.0.0.1", "169.254.169.254");
    const url = `http://mcp.rebinding.test:${checked.port}/mcp`;
    const policy: TargetPolicy = { allowPlainHttp: true, clusterDomain: "cluster.local", apiServers: [] };
    const r = await verifyTools({ url, declared: [{ name: "checked_tool", description: "checked_tool", readOnly: true }], timeoutMs: 5000, lookup: guardedLookup(url, policy, resolve) });
    expect(r.outcome).toBe("Verified");
    expect(calls).toHaveLength(1);
    expect(rebound.hosts).toEqual([]);
  });

  it("goes to a workload's Service by the cluster IP the operator has cached, without DNS", async () => {
    const { checked, rebound } = await checkedAndRebound();
    const dns: string[] = [];
    const resolve = ownServiceResolver({ name: "presto", namespace: "data-platform", clusterDomain: "cluster.local", clusterIP: () => "127.0.0.1" }, async (host) => {
      dns.push(host);
      return ["127.0.0.2"];
    });
    const url = `http://presto.data-platform.svc.cluster.local:${checked.port}/mcp`;
    const policy: TargetPolicy = { allowPlainHttp: false, clusterDomain: "cluster.local", apiServers: [] };
    const r = await verifyTools({ url, declared: [{ name: "checked_tool", description: "checked_tool", readOnly: true }], timeoutMs: 5000, lookup: guardedLookup(url, policy, resolve) });
    expect(r.outcome).toBe("Verified");
    expect(dns).toEqual([]);
    expect(rebound.hosts).toEqual([]);
    expect(new Set(checked.hosts)).toEqual(new Set([`presto.data-platform.svc.cluster.local:${checked.port}`]));
  });

  it("over TLS sends the URL's name as the server name to the pinned address", async () => {
    const names: string[] = [];
    const tls = createTlsServer({
      SNICallback: (servername, cb) => {
        names.push(servername);
        cb(new Error("no certificate here"));
      },
    });
    servers.push(tls);
    await new Promise<void>((r) => tls.listen(0, "127.0.0.1", r));
    const port = (tls.address() as AddressInfo).port;
    const pinned = pinnedConnection("127.0.0.1");
    try {
      await expect(pinned.fetch(`https://mcp.example.test:${port}/mcp`, { signal: AbortSignal.timeout(5000) })).rejects.toThrow();
    } finally {
      await pinned.close();
    }
    expect(names).toEqual(["mcp.example.test"]);
  });

  it("refuses to pin to anything but an IP address", () => {
    expect(() => pinnedConnection("mcp.example.test")).toThrow(/not an IP address/);
  });
});

describe("a workload's own Service name", () => {
  const service = (clusterIP: string | undefined) => ({ name: "presto", namespace: "data-platform", clusterDomain: "cluster.local", clusterIP: () => clusterIP });
  const noDns = async (host: string): Promise<string[]> => {
    throw new Error(`DNS asked for ${host}`);
  };

  it.each(["presto.data-platform.svc", "presto.data-platform.svc.cluster.local", "Presto.Data-Platform.SVC.cluster.local."])("%s resolves to the Service's cluster IP", async (host) => {
    await expect(ownServiceResolver(service("10.96.4.7"), noDns)(host)).resolves.toEqual(["10.96.4.7"]);
  });

  it.each([
    ["not cached yet", undefined],
    ["headless", "None"],
    ["not an address", "10.96.4"],
  ])("is not contacted when its Service has no cluster IP (%s)", async (_what, ip) => {
    await expect(ownServiceResolver(service(ip), noDns)("presto.data-platform.svc.cluster.local")).rejects.toMatchObject({ code: "ENOSERVICEIP" });
  });

  it("leaves every other name, another Service's included, to DNS", async () => {
    const asked: string[] = [];
    const resolve = ownServiceResolver(service("10.96.4.7"), async (host) => {
      asked.push(host);
      return ["10.0.0.9"];
    });
    await expect(resolve("spark.data-platform.svc.cluster.local")).resolves.toEqual(["10.0.0.9"]);
    await expect(resolve("presto.other.svc.cluster.local")).resolves.toEqual(["10.0.0.9"]);
    await expect(resolve("presto.data-platform.svc.evil.example")).resolves.toEqual(["10.0.0.9"]);
    expect(asked).toEqual(["spark.data-platform.svc.cluster.local", "presto.other.svc.cluster.local", "presto.data-platform.svc.evil.example"]);
  });

  it("still goes through the address check: a cluster IP that is the API server's is refused", async () => {
    const policy: TargetPolicy = { allowPlainHttp: false, clusterDomain: "cluster.local", apiServers: [{ address: "10.96.0.1", port: 443 }] };
    const url = "http://presto.data-platform.svc.cluster.local:443/mcp";
    await expect(guardedLookup(url, policy, ownServiceResolver(service("10.96.0.1"), noDns))("presto.data-platform.svc.cluster.local")).rejects.toMatchObject({ code: "ETARGETREFUSED" });
  });
});
