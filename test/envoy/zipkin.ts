// A real Zipkin server for tests: the executable jar scripts/provision/zipkin.sh fetched from Maven
// Central, started on a free loopback port (bound to 127.0.0.1 only) with in-memory storage; killed by
// the caller (stop). Its API: POST /api/v2/spans, GET /api/v2/trace/{traceId} (Zipkin v2).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import path from "node:path";
import { freePort } from "../support/tcp";
import { repoRoot } from "./envoy";

export interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  kind?: string;
  name?: string;
  timestamp?: number;
  duration?: number;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

const STARTUP_MS = 120_000;

export function zipkinJar(): string {
  const r = spawnSync(path.join(repoRoot, "scripts/provision/zipkin.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  if (r.status !== 0) throw new Error("scripts/provision/zipkin.sh failed");
  return r.stdout.trim();
}

export class Zipkin {
  private constructor(readonly process: ChildProcess, readonly port: number, private readonly output: string[]) {}

  get url(): string { return `http://127.0.0.1:${this.port}`; }

  /** `detached`: in its own process group (the demo stops its processes by group). */
  static async start(opts: { detached?: boolean } = {}): Promise<Zipkin> {
    const jar = zipkinJar();
    const port = await freePort();
    const child = spawn("java", [
      "-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar", jar,
      // Armeria's listen address: loopback only (the default binds every interface).
      `--armeria.ports[0].ip=127.0.0.1`, `--armeria.ports[0].port=${port}`, "--armeria.ports[0].protocols=http",
      "--logging.level.root=WARN",
    ], { stdio: ["ignore", "pipe", "pipe"], detached: opts.detached ?? false });
    const output: string[] = [];
    const keep = (b: Buffer) => { output.push(b.toString()); if (output.length > 200) output.shift(); };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const z = new Zipkin(child, port, output);
    const deadline = Date.now() + STARTUP_MS;
    while (true) {
      if (child.exitCode !== null) throw new Error(`zipkin exited (${child.exitCode}):\n${output.join("")}`);
      try {
        const r = await fetch(`${z.url}/health`);
        if (r.ok && ((await r.json()) as { status?: string }).status === "UP") return z;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) { z.stop(); throw new Error(`zipkin not up within ${STARTUP_MS} ms:\n${output.join("")}`); }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async post(spans: ZipkinSpan[]): Promise<void> {
    const r = await fetch(`${this.url}/api/v2/spans`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(spans) });
    if (r.status !== 202) throw new Error(`zipkin refused spans: ${r.status} ${await r.text()}`);
  }

  async trace(traceId: string): Promise<ZipkinSpan[]> {
    const r = await fetch(`${this.url}/api/v2/trace/${traceId}`);
    if (r.status === 404) return [];
    if (!r.ok) throw new Error(`zipkin trace ${traceId}: ${r.status}`);
    return (await r.json()) as ZipkinSpan[];
  }

  /** The trace once it holds at least `count` spans (polled until `timeoutMs`). */
  async waitForTrace(traceId: string, count: number, timeoutMs = 30_000): Promise<ZipkinSpan[]> {
    const deadline = Date.now() + timeoutMs;
    let spans: ZipkinSpan[] = [];
    while (Date.now() < deadline) {
      spans = await this.trace(traceId);
      if (spans.length >= count) return spans;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`trace ${traceId} has ${spans.length} span(s), wanted ${count}: ${JSON.stringify(spans)}`);
  }

  stop(): void { if (this.process.exitCode === null) this.process.kill("SIGKILL"); }
}
