import { describe, expect, it } from "@jest/globals";
import { guardedLookup, TargetRefused, type TargetPolicy } from "../verification-target.js";

const policy: TargetPolicy = { allowPlainHttp: false, clusterDomain: "cluster.local", apiServers: [{ address: "10.96.0.1", port: 443 }, { address: "127.0.0.1", port: 6443 }] };
const resolvesTo = (...addresses: string[]) => async () => addresses;
const check = (url: string, addresses: string[], p: TargetPolicy = policy) => guardedLookup(url, p, resolvesTo(...addresses))(new URL(url).hostname.replace(/^\[|\]$/g, ""));

describe("where verification may go", () => {
  it.each([
    ["cloud metadata by address", "https://169.254.169.254/latest", ["169.254.169.254"]],
    ["a name resolving to link-local", "https://evil.example.com/mcp", ["93.184.216.34", "169.254.10.1"]],
    ["IPv6 link-local", "https://[fe80::1]/mcp", ["fe80::1"]],
    ["IPv4-mapped metadata", "https://x.example.com/mcp", ["::ffff:169.254.169.254"]],
    ["AWS metadata over IPv6", "https://x.example.com/mcp", ["fd00:ec2::254"]],
    ["the metadata name", "https://metadata.google.internal/mcp", ["10.0.0.1"]],
    ["the API server's Service name", "https://kubernetes.default.svc/mcp", ["10.96.0.1"]],
    ["the API server by address and port", "https://10.96.0.1:443/mcp", ["10.96.0.1"]],
    ["a name resolving to the API server", "https://api.example.com:6443/mcp", ["127.0.0.1"]],
    ["plain http outside the cluster", "http://mcp.example.com/mcp", ["93.184.216.34"]],
  ])("refuses %s", async (_what, url, addresses) => {
    await expect(check(url, addresses)).rejects.toBeInstanceOf(TargetRefused);
  });

  it.each([
    ["https outside the cluster", "https://mcp.example.com/mcp", ["93.184.216.34"]],
    ["plain http to a cluster Service", "http://presto.data-platform.svc.cluster.local:8080/mcp", ["10.0.3.4"]],
    ["another port on the API server's address", "http://127.0.0.1:9000/mcp", ["127.0.0.1"]],
  ])("allows %s", async (_what, url, addresses) => {
    await expect(check(url, addresses, { ...policy, allowPlainHttp: url.startsWith("http://127.") })).resolves.toEqual(addresses);
  });
});
