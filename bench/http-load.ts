/**
 * A closed-loop HTTP/1.1 load generator on raw sockets: `connections` keep-alive connections,
 * each sending its next request the moment the last response has been read whole, for a fixed
 * time. Requests are encoded once; responses are framed by their Content-Length (a chunked or
 * unframed response is an error). It costs a fraction of node:http's client per request, so on
 * a small machine the servers under test, not the generator, set the figures.
 */
import { connect, type Socket } from "node:net";

export interface LoadTarget {
  name: string;
  port: number;
  method: "GET" | "POST";
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadSample {
  requests: number;
  seconds: number;
  latenciesMs: number[];
  /** Responses other than 200, and broken connections. */
  errors: number;
}

const HEADER_END = Buffer.from("\r\n\r\n");

export function encodeRequest(t: LoadTarget): Buffer {
  const body = t.body === undefined ? undefined : Buffer.from(t.body);
  const lines = [`${t.method} ${t.path} HTTP/1.1`, `host: 127.0.0.1:${t.port}`, ...Object.entries(t.headers).map(([k, v]) => `${k}: ${v}`)];
  if (body) lines.push(`content-length: ${body.length}`);
  const head = Buffer.from(`${lines.join("\r\n")}\r\n\r\n`);
  return body ? Buffer.concat([head, body]) : head;
}

/**
 * Reads one response after another from a stream of chunks: call `feed` with each chunk; it
 * returns the status of a response once its last byte has arrived, else undefined.
 */
export class ResponseReader {
  private head: Buffer = Buffer.alloc(0);
  private remaining = -1; // body bytes still to come; -1 while reading the head
  private status = 0;

  feed(chunk: Buffer): number | undefined {
    if (this.remaining < 0) {
      this.head = this.head.length ? Buffer.concat([this.head, chunk]) : chunk;
      const end = this.head.indexOf(HEADER_END);
      // Kept for the next chunk: a copy, since the socket reads into one reused buffer.
      if (end < 0) {
        if (this.head === chunk) this.head = Buffer.from(chunk);
        return undefined;
      }
      const text = this.head.subarray(0, end).toString("latin1");
      this.status = Number(text.slice(9, 12));
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(text);
      if (!length) throw new Error(`a response without Content-Length: ${text.split("\r\n")[0]}`);
      this.remaining = Number(length[1]) - (this.head.length - end - HEADER_END.length);
      this.head = Buffer.alloc(0);
    } else {
      this.remaining -= chunk.length;
    }
    if (this.remaining > 0) return undefined;
    if (this.remaining < 0) throw new Error("more bytes than the response's Content-Length (the generator never pipelines)");
    this.remaining = -1;
    return this.status;
  }
}

/**
 * Reads go into one buffer per connection, reused: the generator allocates nothing per
 * response, so its own garbage collection adds no latency to the figures.
 */
export function openSocket(port: number, onChunk: (chunk: Buffer) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const buffer = Buffer.allocUnsafe(256 * 1024);
    const socket = connect({ host: "127.0.0.1", port, noDelay: true, onread: { buffer, callback: (n: number) => (onChunk(buffer.subarray(0, n)), true) } }, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** One connection's loop; resolves when time is up (or the connection broke). */
async function loop(t: LoadTarget, request: Buffer, until: number, latenciesMs: number[], onError: () => void): Promise<void> {
  let onChunk: (chunk: Buffer) => void = () => {};
  const socket = await openSocket(t.port, (chunk) => onChunk(chunk));
  const reader = new ResponseReader();
  await new Promise<void>((resolve) => {
    let sentAt = 0;
    const send = () => {
      sentAt = performance.now();
      socket.write(request);
    };
    onChunk = (chunk: Buffer) => {
      let status: number | undefined;
      try {
        status = reader.feed(chunk);
      } catch {
        onError();
        socket.destroy();
        return;
      }
      if (status === undefined) return;
      const now = performance.now();
      latenciesMs.push(now - sentAt);
      if (status !== 200) onError();
      if (now < until) send();
      else socket.end();
    };
    socket.on("error", () => onError());
    socket.on("close", () => resolve());
    send();
  });
}

/**
 * Drives `t` from `connections` connections for `seconds`. Connection i adds the headers
 * `perConnection[i % length]` (e.g. a caller's own token), if given.
 */
export async function runLoad(t: LoadTarget, seconds: number, connections: number, perConnection: Array<Record<string, string>> = [{}]): Promise<LoadSample> {
  const requests = perConnection.map((h) => encodeRequest({ ...t, headers: { ...t.headers, ...h } }));
  const latenciesMs: number[] = [];
  let errors = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: connections }, (_, i) => loop(t, requests[i % requests.length]!, start + seconds * 1000, latenciesMs, () => errors++)));
  return { requests: latenciesMs.length, seconds: (performance.now() - start) / 1000, latenciesMs, errors };
}
