// /healthz (the process runs its loop), /readyz (inputs listed and the first reconcile done, or a
// follower whose inputs are listed), /metrics (Prometheus text). Probes and metrics may share one port.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface Endpoints {
  healthy: () => boolean;
  ready: () => { ok: boolean; why: string };
  registry?: Registry;
}

/** ":8081" -> all interfaces, port 8081; "127.0.0.1:0" -> a free port on loopback. */
export function parseBindAddress(addr: string): { host?: string; port: number } {
  const m = /^(?:\[?([^\]]*)\]?)?:(\d+)$/.exec(addr);
  if (!m) throw new Error(`bind address must be [host]:port, got "${addr}"`);
  const port = Number(m[2]);
  return m[1] ? { host: m[1], port } : { port };
}

export async function serveEndpoints(addr: string, endpoints: Endpoints, paths: { probes: boolean; metrics: boolean }): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const url = (req.url ?? "/").split("?")[0];
    const send = (code: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(code, { "content-type": type });
      res.end(body);
    };
    if (paths.probes && url === "/healthz") return endpoints.healthy() ? send(200, "ok\n") : send(500, "unhealthy\n");
    if (paths.probes && url === "/readyz") {
      const r = endpoints.ready();
      return send(r.ok ? 200 : 503, `${r.why}\n`);
    }
    if (paths.metrics && url === "/metrics" && endpoints.registry) {
      const registry = endpoints.registry;
      registry.metrics().then((text) => send(200, text, registry.contentType), (err: Error) => send(500, `${err.message}\n`));
      return;
    }
    send(404, "not found\n");
  });
  const { host, port } = parseBindAddress(addr);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

export function boundPort(server: http.Server): number {
  return (server.address() as AddressInfo).port;
}
