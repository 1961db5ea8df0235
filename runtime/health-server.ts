/** The operator's own HTTP endpoints: /metrics for Prometheus, /healthz (alive), /readyz (caches synced). */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface HealthChecks {
  /** The process can do its job (watches not stuck failing). */
  healthy: () => boolean;
  /** Caches are synced: safe to count this replica as ready (leader or warm standby). */
  ready: () => boolean;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export async function startHealthServer(registry: Registry, checks: HealthChecks, port: number, host = "0.0.0.0"): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const answer = (ok: boolean, what: string) => {
      res.writeHead(ok ? 200 : 503, { "Content-Type": "text/plain" });
      res.end(ok ? "ok\n" : `${what}\n`);
    };
    if (path === "/healthz") return answer(checks.healthy(), "watches are failing: see the logs");
    if (path === "/readyz") return answer(checks.ready(), "caches not synced yet");
    if (path === "/metrics") {
      registry
        .metrics()
        .then((text) => {
          res.writeHead(200, { "Content-Type": registry.contentType });
          res.end(text);
        })
        .catch((err: Error) => {
          res.writeHead(500);
          res.end(err.message);
        });
      return;
    }
    res.writeHead(404);
    res.end("not found: /metrics, /healthz, /readyz\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
