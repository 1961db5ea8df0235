import { createServer, type AddressInfo } from "node:net";
import { describe, expect, it } from "@jest/globals";
import { encodeRequest, ResponseReader, runLoad } from "../http-load.js";

const response = (status: number, body: string) => Buffer.from(`HTTP/1.1 ${status} X\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);

describe("the load generator's response reader", () => {
  it("returns each response's status once its last byte arrives, however the bytes are split", () => {
    for (const size of [1, 3, 7, 1000]) {
      const reader = new ResponseReader();
      const statuses: number[] = [];
      // One response at a time, as a closed loop receives them.
      for (const one of [response(200, '{"a":1}'), response(404, '{"error":"no"}')]) {
        for (let i = 0; i < one.length; i += size) {
          const s = reader.feed(one.subarray(i, i + size));
          if (s !== undefined) statuses.push(s);
        }
      }
      expect(statuses).toEqual([200, 404]);
    }
  });

  it("keeps a partial head intact when the socket reads the next bytes into the same buffer", () => {
    const reader = new ResponseReader();
    const one = response(200, '{"a":1}');
    const buffer = Buffer.alloc(one.length);
    one.copy(buffer, 0, 0, 10);
    expect(reader.feed(buffer.subarray(0, 10))).toBeUndefined();
    buffer.fill("x"); // the next read overwrites it
    one.copy(buffer, 0, 10);
    expect(reader.feed(buffer.subarray(0, one.length - 10))).toBe(200);
  });

  it("refuses a response without Content-Length, naming its status line", () => {
    expect(() => new ResponseReader().feed(Buffer.from("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"))).toThrow("a response without Content-Length: HTTP/1.1 200 OK");
  });

  it("refuses bytes beyond the Content-Length", () => {
    expect(() => new ResponseReader().feed(Buffer.concat([response(200, "{}"), Buffer.from("x")]))).toThrow(/more bytes than the response's Content-Length/);
  });

  it("encodes a request with its body's length", () => {
    const text = encodeRequest({ name: "t", port: 8080, method: "POST", path: "/api/v1/access", headers: { "content-type": "application/json" }, body: '{"server":"é"}' }).toString();
    expect(text).toBe('POST /api/v1/access HTTP/1.1\r\nhost: 127.0.0.1:8080\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n{"server":"é"}');
  });
});

describe("runLoad against a real socket server", () => {
  it("counts every answered request, sends each connection its own headers, and counts non-200 answers as errors", async () => {
    const seen = new Set<string>();
    const server = createServer((socket) => {
      let buffered = "";
      socket.on("data", (d) => {
        buffered += d.toString();
        while (buffered.includes("\r\n\r\n")) {
          const end = buffered.indexOf("\r\n\r\n");
          const head = buffered.slice(0, end);
          buffered = buffered.slice(end + 4);
          const caller = /\r\nx-caller: (\S+)/.exec(head)?.[1] ?? "none";
          seen.add(caller);
          socket.write(response(caller === "c2" ? 500 : 200, `{"caller":"${caller}"}`));
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    try {
      const sample = await runLoad({ name: "t", port, method: "GET", path: "/", headers: {} }, 0.3, 3, [{ "x-caller": "c0" }, { "x-caller": "c1" }, { "x-caller": "c2" }]);
      expect(sample.requests).toBeGreaterThan(30);
      expect(sample.latenciesMs).toHaveLength(sample.requests);
      expect([...seen].sort()).toEqual(["c0", "c1", "c2"]);
      // A third of the loops were answered 500: their every request is an error.
      expect(sample.errors).toBeGreaterThan(0);
      expect(sample.errors).toBeLessThan(sample.requests);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
