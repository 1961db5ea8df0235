import { createServer, type AddressInfo } from "node:net";
import { describe, expect, it } from "@jest/globals";
import { verifyTools } from "../tool-verification.js";
import { guardedLookup } from "../verification-target.js";

describe("verifyTools against servers that cannot be reached", () => {
  it("says a name that does not resolve does not resolve, without a handshake", async () => {
    const r = await verifyTools({ lookup: guardedLookup("http://s1.no-such-namespace.svc.toolfleet.invalid:8080/mcp", { allowPlainHttp: false, clusterDomain: "toolfleet.invalid", apiServers: [] }), url: "http://s1.no-such-namespace.svc.toolfleet.invalid:8080/mcp", declared: [{ name: "ping" }], timeoutMs: 2_000 });
    expect(r.outcome).toBe("Unreachable");
    expect(r.message).toMatch(/^cannot reach s1\.no-such-namespace\.svc\.toolfleet\.invalid:8080 \(E[A-Z]+\)$/);
  });

  it("says a port nobody listens on refused the connection", async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const r = await verifyTools({ url: `http://127.0.0.1:${port}/mcp`, declared: [{ name: "ping" }], timeoutMs: 2_000 });
    expect(r).toMatchObject({ outcome: "Unreachable" });
    expect(r.message).toBe(`cannot reach 127.0.0.1:${port} (ECONNREFUSED)`);
  });
});
