/**
 * The relay the real node runs for pods (to the API server) and the real-node suites for Trino:
 * bytes pass both ways untouched between the listening address and the target, closing it cuts
 * the connections in flight, and an address that is not IPv4:port is refused by name.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as connectTls } from "node:tls";
import { ensurePki, servingCredentials } from "../cluster/pki.js";
import { parseEndpoint, startRelay, type Relay } from "./relay.js";

let target: Server | undefined;
let relay: Relay | undefined;
afterEach(async () => {
  await relay?.close();
  await new Promise<void>((r) => (target ? target.close(() => r()) : r()));
  relay = target = undefined;
});

/** A target that answers each chunk with `echo:<chunk>`. */
async function startEcho(): Promise<number> {
  target = createServer((s) => s.on("data", (d) => s.write(`echo:${d.toString()}`)));
  await new Promise<void>((r) => target!.listen(0, "127.0.0.1", r));
  return (target.address() as AddressInfo).port;
}

const firstAnswer = (socket: Socket) => new Promise<string>((resolve) => socket.once("data", (d) => resolve(d.toString())));

describe("the node's relay", () => {
  it("passes bytes both ways between its address and the target, and cuts open connections when closed", async () => {
    const port = await startEcho();
    const listen = { host: "127.0.0.2", port };
    relay = await startRelay(listen, { host: "127.0.0.1", port });
    const socket = connect(listen.port, listen.host);
    socket.write("ping");
    expect(await firstAnswer(socket)).toBe("echo:ping");
    const closed = new Promise<void>((r) => socket.once("close", () => r()));
    await relay.close();
    relay = undefined;
    await closed;
    const refused = await new Promise<string>((resolve) => connect(listen.port, listen.host).once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "")));
    expect(refused).toBe("ECONNREFUSED");
  });

  it("ends TLS with a certificate of the cluster CA for its address, and passes plain bytes to the target", async () => {
    const dir = mkdtempSync(join(tmpdir(), "relay-pki-"));
    try {
      const pki = ensurePki(dir);
      const serving = servingCredentials(pki, "relay", ["127.0.0.2"]);
      const port = await startEcho();
      const listen = { host: "127.0.0.2", port };
      relay = await startRelay(listen, { host: "127.0.0.1", port }, { tls: { key: readFileSync(serving.key, "utf8"), cert: readFileSync(serving.cert, "utf8") } });
      const trusted = connectTls({ host: listen.host, port, ca: readFileSync(pki.caCert, "utf8") });
      trusted.write("ping");
      expect(await firstAnswer(trusted)).toBe("echo:ping");
      trusted.destroy();
      // A client that does not trust the cluster CA gets no connection.
      const untrusted = await new Promise<string>((resolve) => connectTls({ host: listen.host, port }).once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message)));
      expect(untrusted).toMatch(/UNABLE_TO_VERIFY|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each(["10.88.0.1", "localhost:6443", "10.88.0.1:0", "10.88.0.1:70000", "[::1]:6443"])("refuses %s as an address", (text) => {
    expect(() => parseEndpoint(text)).toThrow(/not an IPv4 address and port/);
  });

  it("reads an IPv4 address and port", () => {
    expect(parseEndpoint("10.88.0.1:6443")).toEqual({ host: "10.88.0.1", port: 6443 });
  });
});
