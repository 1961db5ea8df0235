/**
 * An open-loop HTTP/1.1 load generator on raw sockets: requests leave on a fixed schedule,
 * `rate` per second spread evenly over `connections` keep-alive connections, whatever the server
 * answers; each latency is counted from the request's scheduled time. A connection still
 * waiting for an answer when its next request is due sends it the moment the answer arrives, and
 * that wait is part of the request's latency: a server that falls behind shows its queue in the
 * figures instead of slowing the load down (no coordinated omission, unlike a closed loop).
 */
import type { Socket } from "node:net";
import { encodeRequest, openSocket, ResponseReader, type LoadSample, type LoadTarget } from "./http-load.js";

export interface OpenLoadSample extends LoadSample {
  /** The rate asked for, in requests per second. */
  rate: number;
  /**
   * How late each request left after its scheduled time, in ms: the generator's own timer slack,
   * plus the wait for the previous answer on its connection when the server is behind.
   */
  sendDelaysMs: number[];
}

interface Connection {
  socket: Socket;
  reader: ResponseReader;
  request: Buffer;
  /** The scheduled time (performance.now()) of the request sent and not yet answered (one at most: no pipelining). */
  inFlight: number | undefined;
  /** Index of this connection's next request in its own schedule. */
  next: number;
  timer: NodeJS.Timeout | undefined;
  onChunk: (chunk: Buffer) => void;
}

/**
 * Drives `t` at `rate` requests per second for `seconds` from `connections` connections;
 * connection i adds the headers `perConnection[i % length]`. Resolves once every scheduled
 * request has been answered (or its connection broke: those count as errors).
 */
export async function runOpenLoad(t: LoadTarget, seconds: number, rate: number, connections: number, perConnection: Array<Record<string, string>> = [{}]): Promise<OpenLoadSample> {
  if (!(rate > 0) || !(seconds > 0) || !(connections > 0)) throw new Error(`open-loop load needs a positive rate, duration and connection count (got ${rate}/s, ${seconds} s, ${connections})`);
  const requests = perConnection.map((h) => encodeRequest({ ...t, headers: { ...t.headers, ...h } }));
  const latenciesMs: number[] = [];
  const sendDelaysMs: number[] = [];
  let errors = 0;
  const intervalMs = (1000 * connections) / rate;
  const perConnectionCount = Math.ceil((seconds * rate) / connections);
  let start = 0;
  const scheduledAt = (i: number, k: number) => start + (i * 1000) / rate + k * intervalMs;

  const run = (i: number, conn: Connection) =>
    new Promise<void>((resolve) => {
      const sendDue = () => {
        conn.timer = undefined;
        if (conn.inFlight !== undefined || conn.next >= perConnectionCount) return;
        const due = scheduledAt(i, conn.next);
        const now = performance.now();
        if (due > now) {
          conn.timer = setTimeout(sendDue, due - now);
          return;
        }
        conn.inFlight = due;
        conn.next++;
        sendDelaysMs.push(now - due);
        conn.socket.write(conn.request);
      };
      const finish = () => {
        if (conn.timer) clearTimeout(conn.timer);
        // Whatever was due and never answered is an error.
        errors += perConnectionCount - conn.next + (conn.inFlight !== undefined ? 1 : 0);
        conn.next = perConnectionCount;
        conn.inFlight = undefined;
        resolve();
      };
      conn.onChunk = (chunk: Buffer) => {
        let status: number | undefined;
        try {
          status = conn.reader.feed(chunk);
        } catch {
          conn.socket.destroy();
          return;
        }
        if (status === undefined || conn.inFlight === undefined) return;
        latenciesMs.push(performance.now() - conn.inFlight);
        if (status !== 200) errors++;
        conn.inFlight = undefined;
        if (conn.next >= perConnectionCount) conn.socket.end();
        else sendDue();
      };
      conn.socket.on("error", () => {});
      conn.socket.on("close", finish);
      sendDue();
    });

  // Every connection opens before the clock starts, so connecting is not part of any latency.
  const conns = await Promise.all(
    Array.from({ length: connections }, async (_, i) => {
      const conn: Connection = { socket: undefined as unknown as Socket, reader: new ResponseReader(), request: requests[i % requests.length]!, inFlight: undefined, next: 0, timer: undefined, onChunk: () => {} };
      conn.socket = await openSocket(t.port, (chunk) => conn.onChunk(chunk));
      return conn;
    }),
  );
  start = performance.now();
  await Promise.all(conns.map((c, i) => run(i, c)));
  return { requests: latenciesMs.length, seconds: (performance.now() - start) / 1000, latenciesMs, errors, rate, sendDelaysMs };
}
