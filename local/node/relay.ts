/**
 * A TCP relay from the node's bridge address to a service that listens on the host's loopback
 * only (the API server, a local backend): pods cannot reach the host's 127.0.0.1, and those
 * services are not to be opened to the network. Bytes pass untouched (TLS stays end to end).
 */
import { createConnection, createServer, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";

export interface Endpoint {
  host: string;
  port: number;
}

export function parseEndpoint(text: string): Endpoint {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(text);
  const port = Number(m?.[2]);
  if (!m || !(port > 0 && port < 65536)) throw new Error(`"${text}" is not an IPv4 address and port (a.b.c.d:port)`);
  return { host: m[1]!, port };
}

export interface Relay {
  /** Stops listening and cuts the connections in flight. */
  close(): Promise<void>;
}

/**
 * Listens on `listen` and pipes every connection to `target`; resolves once listening. With
 * `tls` (PEM key and certificate) the relay ends TLS itself and speaks plain TCP to the target:
 * for a loopback service without TLS that pods must reach over https (a key set).
 */
export async function startRelay(listen: Endpoint, target: Endpoint, options: { tls?: { key: string; cert: string } } = {}): Promise<Relay> {
  const open = new Set<Socket>();
  const relay = (client: Socket) => {
    const upstream = createConnection(target);
    open.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on("error", close).on("close", close);
    upstream.on("error", close).on("close", close);
  };
  const server = options.tls ? createTlsServer(options.tls, relay) : createServer(relay);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}
