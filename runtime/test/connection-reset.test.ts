/**
 * What KubeClient sends again, against API-server stand-ins. A socket reset under a request: a
 * read, a server-side apply or a merge patch is sent once more on a fresh socket; a create is not,
 * because the server may have acted on it before the reset (a busy API server has been seen to):
 * sending it again would come back 409 for an object the first attempt made. The caller gets the
 * connection error and looks at the object itself. A 429 is sent again after its Retry-After, a
 * 5xx only when the request is the same done twice; a pooled socket idle too long is closed.
 */
import { afterEach, describe, expect, it } from "@jest/globals";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { KubeClient, KubeConnectionError } from "../index.js";
import type { ConnectionConfig } from "../kubeconfig.js";

const CONFIG_MAPS = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap", namespaced: true } as const;

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/**
 * An API server stand-in: the first request on each socket is answered normally; a later
 * request on the same socket is acted on (counted) and then the socket is reset without an answer.
 */
async function resettingServer(): Promise<{ url: string; seen: Array<{ method: string; reset: boolean }> }> {
  const seen: Array<{ method: string; reset: boolean }> = [];
  const served = new WeakMap<Socket, number>();
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const n = (served.get(req.socket) ?? 0) + 1;
    served.set(req.socket, n);
    req.resume();
    req.on("end", () => {
      const reset = n > 1;
      seen.push({ method: req.method ?? "", reset });
      if (reset) return req.socket.resetAndDestroy();
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "ns", uid: `u${seen.length}` } }));
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function clientFor(url: string): KubeClient {
  const config: ConnectionConfig = { getCurrentCluster: () => ({ server: url }), applyToHTTPSOptions: async () => {} };
  return new KubeClient(config, { qps: 1000, burst: 1000 });
}

const object = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "ns" } };

describe("a keep-alive socket reset under a request", () => {
  it("sends a read once more on a fresh socket", async () => {
    const { url, seen } = await resettingServer();
    const client = clientFor(url);
    await client.get(CONFIG_MAPS, "ns", "c"); // opens the pooled socket
    expect(await client.get(CONFIG_MAPS, "ns", "c")).toMatchObject({ metadata: { name: "c" } });
    expect(seen.map((s) => `${s.method}${s.reset ? " reset" : ""}`)).toEqual(["GET", "GET reset", "GET"]);
  });

  it("sends a server-side apply once more (the same apply twice is one)", async () => {
    const { url, seen } = await resettingServer();
    const client = clientFor(url);
    await client.get(CONFIG_MAPS, "ns", "c");
    await client.apply(CONFIG_MAPS, object, { fieldManager: "test" });
    expect(seen.map((s) => `${s.method}${s.reset ? " reset" : ""}`)).toEqual(["GET", "PATCH reset", "PATCH"]);
  });

  it("sends a merge patch once more (the same merge patch twice is one)", async () => {
    const { url, seen } = await resettingServer();
    const client = clientFor(url);
    await client.get(CONFIG_MAPS, "ns", "c");
    await client.request("PATCH", client.path(CONFIG_MAPS, "ns", "c"), { data: { a: "1" } }, undefined, "application/merge-patch+json");
    expect(seen.map((s) => `${s.method}${s.reset ? " reset" : ""}`)).toEqual(["GET", "PATCH reset", "PATCH"]);
  });

  it("does not send a create again: the caller gets the connection error, and the server saw it once", async () => {
    const { url, seen } = await resettingServer();
    const client = clientFor(url);
    await client.get(CONFIG_MAPS, "ns", "c");
    await expect(client.create(CONFIG_MAPS, object)).rejects.toBeInstanceOf(KubeConnectionError);
    expect(seen.filter((s) => s.method === "POST")).toEqual([{ method: "POST", reset: true }]);
  });
});

/** A stand-in that answers the n-th request (from 0) with `answers[n]` (the last one for ever after). */
async function scriptedServer(answers: Array<{ status: number; retryAfter?: string }>): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const a = answers[Math.min(seen.length, answers.length - 1)]!;
      seen.push(`${req.method} ${a.status}`);
      res.statusCode = a.status;
      res.setHeader("content-type", "application/json");
      if (a.retryAfter !== undefined) res.setHeader("retry-after", a.retryAfter);
      res.end(JSON.stringify(a.status < 300 ? object : { kind: "Status", code: a.status, reason: a.status === 429 ? "TooManyRequests" : "Timeout", message: "busy" }));
    });
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe("an API server that is busy", () => {
  it("sends a create again after a 429's Retry-After: priority and fairness refused it unhandled", async () => {
    const { url, seen } = await scriptedServer([{ status: 429, retryAfter: "0" }, { status: 201 }]);
    expect(await clientFor(url).create(CONFIG_MAPS, object)).toMatchObject({ metadata: { name: "c" } });
    expect(seen).toEqual(["POST 429", "POST 201"]);
  });

  it("sends a read again after a 504, but not a create: the create may have been done", async () => {
    const read = await scriptedServer([{ status: 504, retryAfter: "0" }, { status: 200 }]);
    expect(await clientFor(read.url).get(CONFIG_MAPS, "ns", "c")).toMatchObject({ metadata: { name: "c" } });
    expect(read.seen).toEqual(["GET 504", "GET 200"]);
    await new Promise<void>((r) => server!.close(() => r()));
    const create = await scriptedServer([{ status: 504, retryAfter: "0" }, { status: 201 }]);
    await expect(clientFor(create.url).create(CONFIG_MAPS, object)).rejects.toMatchObject({ statusCode: 504 });
    expect(create.seen).toEqual(["POST 504"]);
  });

  it("gives up after three attempts, and at once when Retry-After is longer than it waits", async () => {
    const always = await scriptedServer([{ status: 503, retryAfter: "0" }]);
    await expect(clientFor(always.url).get(CONFIG_MAPS, "ns", "c")).rejects.toMatchObject({ statusCode: 503 });
    expect(always.seen).toEqual(["GET 503", "GET 503", "GET 503"]);
    await new Promise<void>((r) => server!.close(() => r()));
    const long = await scriptedServer([{ status: 429, retryAfter: "60" }, { status: 200 }]);
    await expect(clientFor(long.url).get(CONFIG_MAPS, "ns", "c")).rejects.toMatchObject({ statusCode: 429, retryAfterSeconds: 60 });
    expect(long.seen).toEqual(["GET 429"]);
  });
});

describe("a pooled socket left idle", () => {
  it("is closed by the client after idleSocketMs, and the next request opens a fresh one", async () => {
    const sockets: Socket[] = [];
    const closed: Promise<void>[] = [];
    server = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(object));
    });
    server.keepAliveTimeout = 600_000; // the server would keep it for ten minutes
    server.on("connection", (s: Socket) => {
      sockets.push(s);
      closed.push(new Promise((r) => s.once("close", () => r())));
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const client = new KubeClient(
      { getCurrentCluster: () => ({ server: `http://127.0.0.1:${(server!.address() as AddressInfo).port}` }), applyToHTTPSOptions: async () => {} },
      { idleSocketMs: 200 },
    );
    await client.get(CONFIG_MAPS, "ns", "c");
    await client.get(CONFIG_MAPS, "ns", "c"); // back to back: the same socket
    expect(sockets).toHaveLength(1);
    await closed[0]; // the client hangs up on its own: no request, and the server's limit is far off
    await client.get(CONFIG_MAPS, "ns", "c");
    expect(sockets).toHaveLength(2);
    client.close();
  });
});
