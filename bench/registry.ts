/**
 * The registry under load: list (limit 100) and access check over 1,000 McpServers in the local
 * control plane, each request carrying its caller's RS256 JWT, against a bare express handler
 * returning a static body of the same size. 50 callers, each with a token of its own on its own
 * keep-alive connection; each server is its own process; loopback only; runs interleaved.
 * Throughput comes from a closed loop (bench/http-load.ts), which also gives the bare handler's
 * maximum rate; latency from an open loop at a fixed 80% of that rate against both
 * (bench/open-load.ts: latency from each request's scheduled time, so a server that falls
 * behind cannot hide its queue). The registry runs as shipped: it verifies each token's
 * signature once and keeps the verified token (REGISTRY_TOKEN_CACHE_SIZE);
 * BENCH_REGISTRY_TOKEN_CACHE=0 checks every signature.
 *   node dist/bench/registry.js [seconds-per-round=4] [rounds=3]
 * stdout: the four figures; stderr: progress and absolute numbers.
 */
import { freePort } from "../local/ports.js";
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync, readFileSync, mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import express from "express";
import { TestIssuer } from "../auth/test/token-issuer.js";
import { clusterUp } from "../local/cluster/cli.js";
import { adminKubeconfigPath } from "../local/cluster/paths.js";
import { deleteNamespace, testNamespace } from "../local/cluster/harness.js";
import { inParallel, kube, putServer, setStatus } from "../registry-api/test/fixtures.js";
import { KubeApiError, KubeConnectionError } from "../runtime/index.js";
import { runLoad, type LoadSample, type LoadTarget as Target } from "./http-load.js";
import { runOpenLoad, type OpenLoadSample } from "./open-load.js";

const SERVERS = 1000;
const CONNECTIONS = 50;
/** The open loop's rate, as a share of the bare handler's maximum (closed-loop) rate. */
const OPEN_LOOP_LOAD = 0.8;
const progress = (msg: string) => process.stderr.write(`[registry] ${msg}\n`);

// ---- the bare baseline: a child process serving fixed bodies --------------------------------

function serveBare(listFile: string, accessFile: string, port: number): void {
  const list = readFileSync(listFile);
  const access = readFileSync(accessFile);
  const app = express();
  // As the registry answers: no ETag (express would hash every body), no X-Powered-By.
  app.set("etag", false);
  app.disable("x-powered-by");
  app.get("/list", (_req, res) => {
    res.type("application/json").send(list);
  });
  app.post("/access", (_req, res) => {
    res.type("application/json").send(access);
  });
  app.listen(port, "127.0.0.1", () => process.send?.("ready"));
}

function once(agent: Agent, t: Target): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: t.port, method: t.method, path: t.path, headers: t.headers, agent }, (res) => {
      res.on("data", () => {});
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(t.body);
  });
}

function merge(samples: LoadSample[]): { rps: number; p50: number; p90: number; p99: number; max: number; errors: number; requests: number } {
  const all = samples.flatMap((s) => s.latenciesMs).sort((a, b) => a - b);
  const at = (q: number) => all[Math.min(all.length - 1, Math.floor(all.length * q))] ?? NaN;
  const requests = samples.reduce((n, s) => n + s.requests, 0);
  const seconds = samples.reduce((n, s) => n + s.seconds, 0);
  return { rps: requests / seconds, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: all[all.length - 1] ?? NaN, errors: samples.reduce((n, s) => n + s.errors, 0), requests };
}

// ---- processes --------------------------------------------------------------------------------

async function waitForHttp(port: number, path: string, timeoutMs = 60_000): Promise<void> {
  const agent = new Agent();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await once(agent, { name: "probe", port, method: "GET", path, headers: {} }).catch(() => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`nothing answered 200 on 127.0.0.1:${port}${path} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function fetchBody(t: Target): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: t.port, method: t.method, path: t.path, headers: t.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end(t.body);
  });
}

async function main(): Promise<void> {
  const secondsPerRound = Number(process.argv[2] ?? 4);
  const rounds = Number(process.argv[3] ?? 3);
  const children: ChildProcess[] = [];
  let ns: string | undefined;
  let issuer: TestIssuer | undefined;
  const dir = mkdtempSync(join(tmpdir(), "bench-registry-"));
  try {
    await clusterUp();
    ns = await testNamespace("bench-registry");
    const client = kube();
    progress(`writing ${SERVERS} published McpServers (spec and status) into ${ns}`);
    const tools = Array.from({ length: 8 }, (_, i) => ({ name: `tool_${i}`, description: "A tool of the benchmark", readOnly: i < 6, minutesSaved: i }));
    await inParallel(
      Array.from({ length: SERVERS }, (_, i) => `server-${String(i).padStart(4, "0")}`),
      24,
      async (name) => {
        const shape = { groups: ["ads-eng", "finance", "data-platform"], tools, title: `Server ${name}`, description: "A benchmark server" };
        // On a loaded machine a write may land and still fail on the client's side (a timeout):
        // try again; a create that meets its own object leaves only the status to write.
        for (let attempt = 1; ; attempt++) {
          try {
            await putServer(client, ns!, name, shape).catch((err: unknown) => {
              if (err instanceof KubeApiError && err.statusCode === 409 && err.method === "POST") return setStatus(client, ns!, name, shape);
              throw err;
            });
            return;
          } catch (err) {
            if (!(err instanceof KubeConnectionError) || attempt >= 3) throw err;
          }
        }
      },
    );

    issuer = await TestIssuer.start("https://idp.bench.example.com", "https://registry.bench.example.com");
    // A caller per connection, each with a token of its own (of equal length), as a fleet of
    // clients would be: the registry verifies each signature once and then knows the token.
    const tokens = await Promise.all(Array.from({ length: CONNECTIONS }, (_, i) => issuer!.userToken(`user-${String(i).padStart(2, "0")}`, ["ads-eng"])));
    const callers = tokens.map((t) => ({ authorization: `Bearer ${t}` }));
    const registryPort = await freePort();
    const registry = spawn(process.execPath, [fileURLToPath(new URL("../registry-api/main.js", import.meta.url))], {
      env: {
        ...process.env,
        KUBECONFIG: adminKubeconfigPath(),
        REGISTRY_PORT: String(registryPort),
        TOOLFLEET_NAMESPACES: ns,
        REGISTRY_OIDC_ISSUER: issuer.issuer,
        REGISTRY_OIDC_AUDIENCE: issuer.audience,
        REGISTRY_OIDC_JWKS_URL: issuer.jwksUrl,
        // As shipped (a cache of verified tokens); BENCH_REGISTRY_TOKEN_CACHE=0 makes every request pay for a signature check.
        ...(process.env.BENCH_REGISTRY_TOKEN_CACHE ? { REGISTRY_TOKEN_CACHE_SIZE: process.env.BENCH_REGISTRY_TOKEN_CACHE } : {}),
        REGISTRY_LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    children.push(registry);
    await waitForHttp(registryPort, "/readyz");
    const auth = callers[0]!;
    const regList: Target = { name: "registry list", port: registryPort, method: "GET", path: "/v0.1/servers?limit=100", headers: auth };
    const accessBody = JSON.stringify({ server: `dev.toolfleet.local.${ns}/server-0500`, tool: "tool_1" });
    const regAccess: Target = { name: "registry access", port: registryPort, method: "POST", path: "/api/v1/access", headers: { ...auth, "content-type": "application/json" }, body: accessBody };

    // Wait until the catalog holds all servers, then take its answers as the bare bodies.
    let listAnswer = await fetchBody(regList);
    for (let i = 0; i < 100 && (listAnswer.status !== 200 || (JSON.parse(listAnswer.body) as { servers: unknown[] }).servers.length < 100); i++) {
      await new Promise((r) => setTimeout(r, 200));
      listAnswer = await fetchBody(regList);
    }
    const accessAnswer = await fetchBody(regAccess);
    if (listAnswer.status !== 200 || accessAnswer.status !== 200) throw new Error(`the registry answered ${listAnswer.status} / ${accessAnswer.status}: ${listAnswer.body.slice(0, 200)}`);
    if (!(JSON.parse(accessAnswer.body) as { allowed: boolean }).allowed) throw new Error(`access check denied: ${accessAnswer.body}`);
    progress(`list page: ${listAnswer.body.length} bytes (100 servers); access answer: ${accessAnswer.body.length} bytes`);
    writeFileSync(join(dir, "list.json"), listAnswer.body);
    writeFileSync(join(dir, "access.json"), accessAnswer.body);

    const barePort = await freePort();
    const bare = spawn(process.execPath, [fileURLToPath(import.meta.url), "--bare", join(dir, "list.json"), join(dir, "access.json"), String(barePort)], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    children.push(bare);
    await new Promise<void>((resolve, reject) => {
      bare.once("message", () => resolve());
      bare.once("exit", (code) => reject(new Error(`the bare server exited with ${code}`)));
    });
    const bareList: Target = { name: "bare list", port: barePort, method: "GET", path: "/list", headers: auth };
    const bareAccess: Target = { name: "bare access", port: barePort, method: "POST", path: "/access", headers: { ...auth, "content-type": "application/json" }, body: accessBody };

    // Throughput: a closed loop (each connection sends its next request once the last is
    // answered), which also gives each bare handler's maximum rate.
    const samples = new Map<string, LoadSample[]>();
    const targets = [bareList, regList, bareAccess, regAccess];
    progress("warming up");
    for (const t of targets) await runLoad(t, 1, CONNECTIONS, callers);
    for (let round = 1; round <= rounds; round++) {
      for (const t of targets) {
        const s = await runLoad(t, secondsPerRound, CONNECTIONS, callers);
        samples.set(t.name, [...(samples.get(t.name) ?? []), s]);
        progress(`round ${round}/${rounds} ${t.name} (closed loop): ${(s.requests / s.seconds).toFixed(0)} req/s${s.errors ? `, ${s.errors} errors` : ""}`);
      }
    }
    const r = Object.fromEntries(targets.map((t) => [t.name, merge(samples.get(t.name)!)]));
    for (const [name, m] of Object.entries(r)) progress(`${name} (closed loop): ${m.rps.toFixed(0)} req/s, p50 ${m.p50.toFixed(1)} / p90 ${m.p90.toFixed(1)} / p99 ${m.p99.toFixed(1)} / max ${m.max.toFixed(1)} ms, ${m.requests} requests, ${m.errors} errors`);

    // Latency: an open loop at a fixed rate, OPEN_LOOP_LOAD of the bare handler's maximum, the
    // same rate for the registry and the bare handler; latency from each request's scheduled time.
    const rates = { list: r["bare list"]!.rps * OPEN_LOOP_LOAD, access: r["bare access"]!.rps * OPEN_LOOP_LOAD };
    const openTargets: Array<[Target, number]> = [
      [bareList, rates.list],
      [regList, rates.list],
      [bareAccess, rates.access],
      [regAccess, rates.access],
    ];
    progress(`open loop at ${(OPEN_LOOP_LOAD * 100).toFixed(0)}% of the bare maxima: list ${rates.list.toFixed(0)} req/s, access ${rates.access.toFixed(0)} req/s, over ${CONNECTIONS} connections`);
    const open = new Map<string, OpenLoadSample[]>();
    for (let round = 1; round <= rounds; round++) {
      for (const [t, rate] of openTargets) {
        const s = await runOpenLoad(t, secondsPerRound, rate, CONNECTIONS, callers);
        open.set(t.name, [...(open.get(t.name) ?? []), s]);
        const m = merge([s]);
        progress(`round ${round}/${rounds} ${t.name} (open loop, ${rate.toFixed(0)} req/s): ${m.rps.toFixed(0)} req/s answered, p99 ${m.p99.toFixed(2)} ms${s.errors ? `, ${s.errors} errors` : ""}`);
      }
    }
    const o = Object.fromEntries(openTargets.map(([t]) => [t.name, merge(open.get(t.name)!)]));
    for (const [t] of openTargets) {
      const m = o[t.name]!;
      const lag = open.get(t.name)!.flatMap((s) => s.sendDelaysMs).sort((a, b) => a - b);
      progress(`${t.name} (open loop): ${m.rps.toFixed(0)} req/s, p50 ${m.p50.toFixed(2)} / p90 ${m.p90.toFixed(2)} / p99 ${m.p99.toFixed(2)} / max ${m.max.toFixed(1)} ms, ${m.requests} requests, ${m.errors} errors; sent late by p99 ${(lag[Math.floor(lag.length * 0.99)] ?? NaN).toFixed(2)} ms`);
    }

    const errors = [...Object.values(r), ...Object.values(o)].reduce((n, m) => n + m.errors, 0);
    if (errors > 0) throw new Error(`${errors} requests failed: the figures would not be comparable`);
    const out = (line: string) => process.stdout.write(`${line}\n`);
    out(`bench registry-list-throughput: ${(r["registry list"]!.rps / r["bare list"]!.rps).toFixed(2)}x (target >= 1.0x)`);
    out(`bench registry-list-p99-ratio: ${(o["registry list"]!.p99 / o["bare list"]!.p99).toFixed(2)}x (target <= 1.5x)`);
    out(`bench registry-access-check-throughput: ${(r["registry access"]!.rps / r["bare access"]!.rps).toFixed(2)}x (target >= 0.6x)`);
    out(`bench registry-access-p99-ratio: ${(o["registry access"]!.p99 / o["bare access"]!.p99).toFixed(2)}x (target <= 1.5x)`);
  } finally {
    for (const c of children) c.kill("SIGTERM");
    await issuer?.stop();
    if (ns) await deleteNamespace(ns, { wait: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--bare") {
  serveBare(process.argv[3]!, process.argv[4]!, Number(process.argv[5]));
} else {
  main().catch((err: unknown) => {
    process.stderr.write(`[registry] failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
