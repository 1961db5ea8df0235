/**
 * A free loopback port, for the local control plane, the backends, the real node, tests and
 * benchmarks: the kernel picks one, the listener closes, the caller binds it next.
 */
import { createServer } from "node:net";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      srv.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no free port on 127.0.0.1"))));
    });
  });
}
