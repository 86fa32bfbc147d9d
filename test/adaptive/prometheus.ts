// Runs Debian's Prometheus (scripts/provision/prometheus.sh) for a test: its own config, data directory
// and free loopback port, scraping the given targets every second. Stopped on every path.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "../envoy/envoy";
import { freePort } from "../support/tcp";
import { stopProcess } from "../kube/process";
import { waitFor } from "../wait";

const running = new Set<ChildProcess>();
process.on("exit", () => { for (const p of running) p.kill("SIGKILL"); });

export function prometheusBinary(): string {
  return execFileSync(path.join(repoRoot, "scripts/provision/prometheus.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
}

export class Prometheus {
  private constructor(readonly process: ChildProcess, readonly url: string, readonly dir: string) {}

  static async start(targets: string[], scrapeIntervalS = 1): Promise<Prometheus> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meltemi-prometheus-"));
    const config = [
      "global:",
      `  scrape_interval: ${scrapeIntervalS}s`,
      `  scrape_timeout: ${scrapeIntervalS}s`,
      "scrape_configs:",
      "  - job_name: test",
      "    static_configs:",
      `      - targets: [${targets.map((t) => JSON.stringify(t)).join(", ")}]`,
    ].join("\n");
    fs.writeFileSync(path.join(dir, "prometheus.yml"), config + "\n");
    const port = await freePort();
    const log = fs.openSync(path.join(dir, "prometheus.log"), "a");
    const child = spawn(prometheusBinary(), [
      `--config.file=${path.join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${path.join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // A series the exporter stops reporting must not linger for the default 5 minutes.
      "--query.lookback-delta=5s",
    ], { stdio: ["ignore", log, log] });
    fs.closeSync(log);
    running.add(child);
    child.on("exit", () => running.delete(child));
    const p = new Prometheus(child, `http://127.0.0.1:${port}`, dir);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}):\n${p.log()}`);
      try {
        const r = await fetch(`${p.url}/-/ready`);
        if (r.status === 200) return p;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`prometheus not ready in 30 s:\n${p.log()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  log(): string {
    try {
      return fs.readFileSync(path.join(this.dir, "prometheus.log"), "utf8").split("\n").slice(-30).join("\n");
    } catch {
      return "";
    }
  }

  /** Waits until an instant query returns `check`-satisfying value (the scrape has landed). */
  waitFor(promql: string, check: (v: number) => boolean, timeoutMs = 20_000): Promise<number> {
    return waitFor(promql, async () => {
      const r = (await (await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`)).json()) as { data?: { result?: { value: [number, string] }[] } };
      const v = r.data?.result?.[0]?.value?.[1];
      return v !== undefined && check(Number(v)) ? Number(v) : undefined;
    }, timeoutMs);
  }

  stop(): Promise<void> {
    return stopProcess(this.process, "SIGKILL");
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
