import { createServer, type AddressInfo, type Server } from "node:net";
import { describe, expect, it } from "@jest/globals";
import { runOpenLoad } from "../open-load.js";

const response = (body: string) => Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);

/** A server answering each request `delayMs` after it arrives (one at a time per connection), noting arrival times. */
async function serve(delayMs: number): Promise<{ server: Server; port: number; arrivals: number[] }> {
  const arrivals: number[] = [];
  const server = createServer((socket) => {
    let buffered = "";
    socket.on("data", (d) => {
      buffered += d.toString();
      while (buffered.includes("\r\n\r\n")) {
        buffered = buffered.slice(buffered.indexOf("\r\n\r\n") + 4);
        arrivals.push(performance.now());
        setTimeout(() => socket.write(response('{"ok":true}')), delayMs);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as AddressInfo).port, arrivals };
}

describe("runOpenLoad against a real socket server", () => {
  it("sends every scheduled request, spread over the duration rather than as fast as answers come", async () => {
    const { server, port, arrivals } = await serve(0);
    try {
      const sample = await runOpenLoad({ name: "t", port, method: "GET", path: "/", headers: {} }, 0.5, 200, 4);
      expect(sample.requests).toBe(100);
      expect(sample.errors).toBe(0);
      expect(sample.latenciesMs).toHaveLength(100);
      expect(sample.sendDelaysMs).toHaveLength(100);
      // A closed loop on a server answering at once would send its 100 requests in a few ms.
      expect(Math.max(...arrivals) - Math.min(...arrivals)).toBeGreaterThan(400);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("counts a request's wait behind a slow answer from its scheduled time (no coordinated omission)", async () => {
    // One connection, a request due every 10 ms, each answered 20 ms after it arrives: the
    // backlog grows, and so must the latencies. A closed loop would report about 20 ms each.
    const { server, port } = await serve(20);
    try {
      const sample = await runOpenLoad({ name: "t", port, method: "GET", path: "/", headers: {} }, 0.5, 100, 1);
      expect(sample.requests).toBe(50);
      const sorted = [...sample.latenciesMs].sort((a, b) => a - b);
      // The last of 50 requests waits behind ~49 answers of 20 ms, scheduled 490 ms after the first.
      expect(sorted[sorted.length - 1]).toBeGreaterThan(400);
      expect(sorted[Math.floor(sorted.length / 2)]).toBeGreaterThan(100);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it("refuses a rate, duration or connection count that is not positive", async () => {
    await expect(runOpenLoad({ name: "t", port: 1, method: "GET", path: "/", headers: {} }, 1, 0, 1)).rejects.toThrow("open-loop load needs a positive rate, duration and connection count (got 0/s, 1 s, 1)");
  });
});
