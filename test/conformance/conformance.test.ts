/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance, its server scenarios)
 * against a kit server, as an authenticated caller: the suite's client cannot send a token, so
 * it talks to the kit through a proxy that adds the caller's bearer token to every request,
 * as a gateway in front of a server would. Every scenario passes except those in baseline.yml,
 * which do not apply to a server of tools; the suite itself fails on an unexpected failure and
 * on a baseline entry that has started to pass.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TestIssuer } from "../../auth/test/token-issuer.js";
import { nullAuditSink, type RunningServer } from "../../servers/kit/index.js";
import { PolicyVolume } from "../../servers/kit/test/fixture.js";
import { CONFORMANCE_GROUP, conformancePolicy, conformanceServer } from "./server.js";
import { createLogger } from "../../common/log.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const SUITE = join(here, "../../node_modules/@modelcontextprotocol/conformance/dist/index.js");
const BASELINE = join(here, "baseline.yml");

let idp: TestIssuer;
let kit: RunningServer;
let proxy: Server;
let url: string;

/** Adds the caller's token to every request and passes everything else through as it is. */
function authenticatingProxy(target: () => string, token: () => string): Promise<Server> {
  const server = createServer((req, res) => {
    const upstream = httpRequest(new URL(req.url ?? "/", target()), { method: req.method, headers: { ...req.headers, authorization: `Bearer ${token()}` } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    res.on("close", () => upstream.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

beforeAll(async () => {
  let token = "";
  let kitUrl = "";
  proxy = await authenticatingProxy(
    () => kitUrl,
    () => token,
  );
  // The kit's public URL is the proxy's: the token's audience, and the origin browsers use.
  const publicUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  url = `${publicUrl}/mcp`;
  idp = await TestIssuer.start("https://idp.example.com", url);
  token = await idp.userToken("conformance", [CONFORMANCE_GROUP], { expiresIn: 3600 });
  const volume = new PolicyVolume();
  volume.write(conformancePolicy());
  kit = await conformanceServer.start({
    policyFile: volume.path,
    publicUrl,
    port: 0,
    host: "127.0.0.1",
    auth: { users: { issuer: idp.issuer, keys: { jwksUrl: idp.jwksUrl } } },
    audit: nullAuditSink,
    logger: createLogger({}, { sink: () => undefined }),
    processMetrics: false,
    // The suite opens a 2025 session per scenario and closes none: more than one caller's usual share.
    maxSessionsPerCaller: 100,
  });
  kitUrl = kit.url;
});

afterAll(async () => {
  await kit?.stop();
  proxy?.closeAllConnections();
  await new Promise<void>((r) => (proxy ? proxy.close(() => r()) : r()));
  await idp?.stop();
});

describe("the official MCP conformance suite", () => {
  it("passes every server scenario that applies to a server of tools", async () => {
    const output = mkdtempSync(join(tmpdir(), "conformance-"));
    const run = spawn(process.execPath, [SUITE, "server", "--url", url, "--expected-failures", BASELINE, "-o", output], { stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    run.stdout.on("data", (c: Buffer) => (log += c.toString()));
    run.stderr.on("data", (c: Buffer) => (log += c.toString()));
    const code = await new Promise<number | null>((resolve) => run.once("exit", resolve));
    if (code !== 0) throw new Error(`the conformance suite failed (exit ${code}):\n${log}`);
    // The baseline lists only what does not apply; the tool scenarios are in the run and passed.
    const baseline = readFileSync(BASELINE, "utf8");
    for (const scenario of ["server-initialize", "ping", "tools-list", "tools-call-simple-text", "tools-call-image", "tools-call-audio", "tools-call-embedded-resource", "tools-call-mixed-content", "tools-call-error", "server-sse-multiple-streams", "dns-rebinding-protection"]) {
      expect(baseline).not.toMatch(new RegExp(`^\\s*- ${scenario}$`, "m"));
      expect(log).toContain(scenario);
    }
  }, 240_000);
});
