/**
 * Tool-call latency and throughput at the current protocol revision (2026-07-28, one stateless
 * request per call) through the kit (JWT verification, authorization, metrics, audit to a null
 * sink) against a bare v2 SDK server with the same tool (createMcpHandler behind express), the
 * same SDK client, in the same run, interleaved so both see the same machine. Loopback only;
 * bounded in count and time.
 *   node dist/bench/tool-call.js [calls=3000] [seconds=40]
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setMaxListeners } from "node:events";
import express from "express";
import { z } from "zod";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { createMcpHandler, McpServer } from "@modelcontextprotocol/server";
import { TestIssuer } from "../auth/test/token-issuer.js";
import { createDomainServer, nullAuditSink } from "../servers/kit/index.js";
import { toWebRequest, writeWebResponse } from "../servers/kit/web.js";
import { createLogger } from "../common/log.js";

// The SDK client's transport hangs one abort listener per fetch on a shared signal (released by
// GC); under load that trips Node's leak warning, in both arms alike. Not a kit issue.
setMaxListeners(0);

const CALLS = Number(process.argv[2] ?? 3000);
const SECONDS = Number(process.argv[3] ?? 40);
const CONCURRENCY = 8;
const progress = (msg: string) => process.stderr.write(`[tool-call] ${msg}\n`);
const echo = (text: string) => `echo: ${text}`;

async function startKit(): Promise<{ url: string; token: string; stop: () => Promise<void> }> {
  const publicUrl = "https://bench.example.com";
  const idp = await TestIssuer.start("https://idp.example.com", `${publicUrl}/mcp`);
  const dir = mkdtempSync(join(tmpdir(), "bench-policy-"));
  writeFileSync(join(dir, "policy.json"), JSON.stringify({
    server: { namespace: "bench", name: "echo", registryName: "dev.toolfleet.bench/echo" },
    access: { allowedGroups: ["eng"], allowedServiceAccounts: [] },
    tools: [{ name: "echo", readOnly: true, minutesSaved: 1 }],
  }));
  const server = createDomainServer({
    name: "echo",
    version: "1.0.0",
    tools: [{ name: "echo", description: "Echo", input: z.object({ text: z.string() }), readOnly: true, handler: (args) => echo(args.text) }],
  });
  const running = await server.start({
    policyFile: join(dir, "policy.json"),
    publicUrl,
    port: 0,
    host: "127.0.0.1",
    auth: { users: { issuer: idp.issuer, keys: { jwksUrl: idp.jwksUrl } } },
    audit: nullAuditSink,
    logger: createLogger({}, { level: "warn" }),
    processMetrics: false,
  });
  return { url: `${running.url}/mcp`, token: await idp.userToken("ana", ["eng"]), stop: async () => (await running.stop(), await idp.stop()) };
}

/** The SDK's own way: createMcpHandler with a fresh McpServer per request, express.json in front. */
async function startBare(): Promise<{ url: string; stop: () => Promise<void> }> {
  const handler = createMcpHandler(() => {
    const mcp = new McpServer({ name: "echo", version: "1.0.0" });
    mcp.registerTool("echo", { description: "Echo", inputSchema: z.object({ text: z.string() }), annotations: { readOnlyHint: true } }, ({ text }) => ({
      content: [{ type: "text", text: echo(text) }],
    }));
    return mcp;
  }, { legacy: "reject" });
  const app = express();
  app.use(express.json());
  app.all("/mcp", async (req, res) => {
    await writeWebResponse(await handler.fetch(toWebRequest(req, res), { parsedBody: req.body }), res);
  });
  const http: HttpServer = await new Promise((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    stop: async () => {
      await handler.close();
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    },
  };
}

async function client(url: string, token?: string): Promise<Client> {
  const c = new Client({ name: "bench", version: "1.0.0" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
  await c.connect(new StreamableHTTPClientTransport(new URL(url), token ? { requestInit: { headers: { authorization: `Bearer ${token}` } } } : {}));
  return c;
}

async function once(c: Client, i: number): Promise<number> {
  const t0 = performance.now();
  const r = await c.callTool({ name: "echo", arguments: { text: `call ${i}` } });
  if (c.getNegotiatedProtocolVersion() !== "2026-07-28") throw new Error(`spoke ${c.getNegotiatedProtocolVersion()}, not 2026-07-28`);
  if (r.isError) throw new Error(`call failed: ${JSON.stringify(r.content)}`);
  return performance.now() - t0;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] as number;

async function burst(c: Client, ms: number): Promise<number> {
  const until = performance.now() + ms;
  let done = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      while (performance.now() < until) await once(c, w * 1e6 + done++);
    }),
  );
  return done;
}

async function main(): Promise<void> {
  const deadline = performance.now() + SECONDS * 1000;
  const kit = await startKit();
  const bare = await startBare();
  const k = await client(kit.url, kit.token);
  const b = await client(bare.url);
  progress(`warming up`);
  // Bounded by time too: on a loaded machine the warm-up must leave the measured part its share.
  for (let i = 0; i < 300 && performance.now() < deadline - SECONDS * 750; i++) (await once(k, i), await once(b, i));

  const lat = { kit: [] as number[], bare: [] as number[] };
  for (let i = 0; i < CALLS && performance.now() < deadline - SECONDS * 500; i++) {
    // Alternate who goes first so neither always runs on a warmer cache.
    if (i % 2 === 0) (lat.kit.push(await once(k, i)), lat.bare.push(await once(b, i)));
    else (lat.bare.push(await once(b, i)), lat.kit.push(await once(k, i)));
    if (i % 1000 === 999) progress(`latency: ${i + 1} call pairs`);
  }
  if (lat.kit.length === 0) throw new Error(`no call finished in the latency part within ${SECONDS} s: give it more seconds`);
  progress(`latency: ${lat.kit.length} calls each; kit p50 ${pct(lat.kit, 50).toFixed(3)} ms p99 ${pct(lat.kit, 99).toFixed(3)} ms, bare p50 ${pct(lat.bare, 50).toFixed(3)} ms p99 ${pct(lat.bare, 99).toFixed(3)} ms`);

  const thr = { kit: { calls: 0, ms: 0 }, bare: { calls: 0, ms: 0 } };
  const blockMs = 1000;
  for (let round = 0; round < 6 && performance.now() + 2 * blockMs < deadline; round++) {
    for (const [name, c] of (round % 2 ? [["bare", b], ["kit", k]] : [["kit", k], ["bare", b]]) as [keyof typeof thr, Client][]) {
      const t0 = performance.now();
      thr[name].calls += await burst(c, blockMs);
      thr[name].ms += performance.now() - t0;
    }
    progress(`throughput: round ${round + 1}`);
  }
  const rate = (x: { calls: number; ms: number }) => (x.calls / x.ms) * 1000;
  progress(`throughput (${CONCURRENCY} in flight): kit ${rate(thr.kit).toFixed(0)}/s, bare ${rate(thr.bare).toFixed(0)}/s`);

  await k.close();
  await b.close();
  await kit.stop();
  await bare.stop();

  console.log(`bench tool-call-p50: ${(pct(lat.kit, 50) / pct(lat.bare, 50)).toFixed(2)}x (target <= 1.1x)`);
  console.log(`bench tool-call-p99: ${(pct(lat.kit, 99) / pct(lat.bare, 99)).toFixed(2)}x (no target; reported)`);
  console.log(`bench tool-call-throughput: ${(rate(thr.kit) / rate(thr.bare)).toFixed(2)}x (target >= 0.9x)`);
}

await main();
