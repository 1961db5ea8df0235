/**
 * Scale out: two kit processes behind a plain round-robin proxy (each HTTP request to the next
 * process, no affinity of any kind), sharing nothing but the replica key. Calls from both
 * protocol revisions, sensitive ones included, all succeed; a replayed 2026 confirmation is
 * refused whichever process it lands on. What ran where is read from each process's audit.
 */
import { freePort } from "../../../local/ports.js";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { TestIssuer } from "../../../auth/test/token-issuer.js";
import { connectManual, connectRevision, isQuestion, REVISIONS } from "../../../test/mcp-clients.js";
import type { AuditRecord } from "../audit.js";
import { waitFor } from "../../../local/wait-for.js";
import { basePolicy, PolicyVolume, PUBLIC_URL, RESOURCE } from "./fixture.js";

interface Replica {
  url: string;
  process: ChildProcess;
  audit: AuditRecord[];
  output: string[];
}

function startReplica(port: number, env: Record<string, string>): Replica {
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ["dist/servers/kit/main.js", "dist/servers/kit/test/replica-server.js"], {
    // As the operator gives it: the pod's address; the kit makes its URL with PORT.
    env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1", TOOLFLEET_REPLICA_IP: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const replica: Replica = { url, process: child, audit: [], output: [] };
  let pending = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    for (const line of lines) {
      replica.output.push(line);
      if (line.startsWith('{"audit":true')) replica.audit.push(JSON.parse(line) as AuditRecord);
    }
  });
  child.stderr!.on("data", (chunk: Buffer) => void replica.output.push(chunk.toString()));
  return replica;
}

/** A plain round-robin balancer: every request to the next backend, streamed both ways. */
function roundRobin(backends: string[]): Promise<Server> {
  let next = 0;
  const proxy = createServer((req, res) => {
    const target = new URL(req.url ?? "/", backends[next++ % backends.length]);
    const upstream = httpRequest(target, { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => res.destroy());
    res.on("close", () => upstream.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolve) => proxy.listen(0, "127.0.0.1", () => resolve(proxy)));
}

let idp: TestIssuer;
let replicas: Replica[] = [];
let proxy: Server;
let mcpUrl: string;
let env: Record<string, string>;

const stopReplica = (r: Replica) =>
  new Promise<void>((resolve) => {
    if (r.process.exitCode !== null) return resolve();
    r.process.once("exit", () => resolve());
    r.process.kill("SIGTERM");
  });

beforeAll(async () => {
  idp = await TestIssuer.start("https://idp.example.com", RESOURCE);
  const volume = new PolicyVolume();
  volume.write(basePolicy());
  env = {
    TOOLFLEET_POLICY_FILE: volume.path,
    TOOLFLEET_PUBLIC_URL: PUBLIC_URL,
    TOOLFLEET_OIDC_ISSUER: idp.issuer,
    TOOLFLEET_OIDC_JWKS_URL: idp.jwksUrl,
    TOOLFLEET_REPLICA_KEY: randomBytes(32).toString("base64url"),
  };
  replicas = [startReplica(await freePort(), env), startReplica(await freePort(), env)];
  for (const r of replicas) {
    await waitFor(`replica ${r.url} ready`, async () => (await fetch(`${r.url}/readyz`)).status === 200, 30_000).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${r.output.join("\n")}`);
    });
  }
  proxy = await roundRobin(replicas.map((r) => r.url));
  mcpUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/mcp`;
}, 60_000);

afterAll(async () => {
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  proxy?.closeAllConnections();
  await Promise.all(replicas.map(stopReplica));
  await idp?.stop();
});

const okKills = () => replicas.map((r) => r.audit.filter((a) => a.tool === "kill_query" && a.outcome === "ok").length);

describe.each(REVISIONS)("a %s client behind a round-robin proxy over two replicas", (revision) => {
  it("makes 50 calls, half of them confirmed sensitive calls, and every one succeeds", async () => {
    const before = okKills();
    const client = await connectRevision(revision, { url: mcpUrl, token: await idp.userToken("dev", ["data-platform"]), answer: "accept" });
    try {
      const failures: string[] = [];
      for (let i = 0; i < 50; i++) {
        const result = i % 2 === 0 ? await client.call("run_query", { sql: `select ${i}` }) : await client.call("kill_query", { id: `q${i}` });
        const expected = i % 2 === 0 ? `rows for select ${i}` : `killed q${i}`;
        if (result.isError || result.text !== expected) failures.push(`${i}: ${result.text}`);
      }
      expect(failures).toEqual([]);
      expect(client.asked).toHaveLength(25);
      await waitFor("25 confirmed kill_query calls in the audit trails", () => okKills().reduce((a, b) => a + b, 0) - before.reduce((a, b) => a + b, 0) === 25);
      const queries = (r: Replica) => r.audit.filter((a) => a.tool === "run_query" && (a.session !== undefined) === (revision === "2025-11-25")).length;
      await waitFor("25 queries in the replicas' audit trails", () => replicas.reduce((n, r) => n + queries(r), 0) === 25);
      const calls = replicas.map(queries);
      if (revision === "2026-07-28") {
        // Stateless: each request is served where the proxy sent it, so both replicas served calls.
        expect(calls.every((n) => n > 0)).toBe(true);
      } else {
        // The session lives on one replica; the other forwarded it every request the proxy sent it.
        const sessions = new Set(replicas.flatMap((r, i) => r.audit.filter((a) => a.session !== undefined).map((a) => `${i}:${a.session}`)));
        expect(new Set([...sessions].map((s) => s.split(":")[0])).size).toBe(1);
        expect(calls.filter((n) => n > 0)).toHaveLength(1);
      }
    } finally {
      await client.close();
    }
  });
});

describe("a 2026-07-28 confirmation across replicas", () => {
  it("is used once: replays landing on either replica are refused", async () => {
    const client = await connectManual(mcpUrl, await idp.userToken("dev", ["data-platform"]));
    try {
      const before = okKills().reduce((a, b) => a + b, 0);
      const question = await client.ask("kill_query", { id: "q-replay" });
      if (!isQuestion(question)) throw new Error(`expected a confirmation, got ${question.text}`);
      expect((await client.answer("kill_query", { id: "q-replay" }, "accept", question.requestState)).text).toBe("killed q-replay");
      for (let i = 0; i < 4; i++) {
        const replay = await client.answer("kill_query", { id: "q-replay" }, "accept", question.requestState);
        expect(replay.isError).toBe(true);
        expect(replay.text).toMatch(/already used/);
      }
      await waitFor("one more confirmed kill_query call in the audit trails", () => okKills().reduce((a, b) => a + b, 0) === before + 1);
      const refusals = replicas.flatMap((r) => r.audit.filter((a) => a.elicitation === "invalid"));
      expect(refusals).toHaveLength(4);
    } finally {
      await client.close();
    }
  });

  it("a session id or state not sealed by a replica is never forwarded anywhere", async () => {
    const token = await idp.userToken("dev", ["data-platform"]);
    const forged = Buffer.from(JSON.stringify({ r: "http://169.254.169.254", n: "x" })).toString("base64url") + ".AAAA";
    const res = await fetch(mcpUrl, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-session-id": forged },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
    });
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/session not found/);
  });
});

describe("a replica without the replicas' shared key", () => {
  it("says at start that requests answered on another replica will be refused", async () => {
    const { TOOLFLEET_REPLICA_KEY: _key, ...withoutKey } = env;
    const lone = startReplica(await freePort(), withoutKey);
    try {
      // Log lines come on either stream; a chunk may hold several.
      const line = () => lone.output.flatMap((chunk) => chunk.split("\n")).find((l) => l.includes("TOOLFLEET_REPLICA_KEY is not set"));
      await waitFor("the warning about the missing key", () => line() !== undefined, 30_000);
      const warning = JSON.parse(line()!) as { level: string; replicaUrl: string };
      expect(warning).toMatchObject({ level: "warn", replicaUrl: lone.url });
    } finally {
      await stopReplica(lone);
    }
  }, 40_000);
});
