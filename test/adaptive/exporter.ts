// A tiny Prometheus exporter whose values the test sets: /metrics serves every gauge in the text
// exposition format (version 0.0.4).
import http from "node:http";
import type { AddressInfo } from "node:net";

export class TestExporter {
  private readonly values = new Map<string, { name: string; labels: Record<string, string>; value: number }>();
  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<TestExporter> {
    let exporter: TestExporter | undefined;
    const server = http.createServer((req, res) => {
      if (req.url !== "/metrics") {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      res.end(exporter!.exposition());
    });
    exporter = new TestExporter(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return exporter;
  }

  get target(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  set(name: string, labels: Record<string, string>, value: number): void {
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    this.values.set(key, { name, labels, value });
  }

  exposition(): string {
    const lines: string[] = [];
    for (const { name, labels, value } of this.values.values()) {
      const l = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`).join(",");
      lines.push(`${name}{${l}} ${value}`);
    }
    return lines.join("\n") + "\n";
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}
