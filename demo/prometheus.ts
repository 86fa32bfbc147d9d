// `--prometheus`: a real Prometheus (Debian's package, scripts/provision/prometheus.sh) scraping every
// sidecar's /stats/prometheus, with its own config and data directory in the demo's run directory.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { repoRoot } from "../test/envoy/envoy";
import { freePort } from "../test/support/tcp";
import { Processes } from "./processes";

export interface ScrapeTarget { job: string; adminUrl: string; labels: Record<string, string> }

/** The Prometheus configuration: one job per sidecar, every 2 seconds. */
export function prometheusConfig(targets: readonly ScrapeTarget[]): string {
  const jobs = targets.map((t) => [
    `  - job_name: ${JSON.stringify(t.job)}`,
    "    metrics_path: /stats/prometheus",
    "    static_configs:",
    `      - targets: [${JSON.stringify(t.adminUrl.replace(/^http:\/\//, ""))}]`,
    `        labels: ${JSON.stringify(t.labels)}`,
  ].join("\n"));
  return `global:\n  scrape_interval: 2s\n  evaluation_interval: 2s\nscrape_configs:\n${jobs.join("\n")}\n`;
}

export async function startPrometheus(procs: Processes, runDir: string, targets: readonly ScrapeTarget[]): Promise<string> {
  const binary = execFileSync(path.join(repoRoot, "scripts/provision/prometheus.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
  const dir = path.join(runDir, "prometheus");
  fs.mkdirSync(path.join(dir, "data"), { recursive: true });
  fs.writeFileSync(path.join(dir, "prometheus.yml"), prometheusConfig(targets));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = procs.spawn("prometheus", binary, [
    `--config.file=${path.join(dir, "prometheus.yml")}`, `--storage.tsdb.path=${path.join(dir, "data")}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}):\n${Processes.lastErrors(child)}`);
    try { if ((await fetch(`${url}/-/ready`)).ok) return url; } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`prometheus not ready in 30 s:\n${Processes.lastErrors(child)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
