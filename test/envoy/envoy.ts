// Runs the official Envoy binary for tests: writes a bootstrap, starts Envoy on loopback with port 0
// everywhere (Envoy picks free ports; we read them back from the admin API, so there is no race),
// waits for readiness through /ready, and always tears the process down.
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { repoRoot } from "../repo_root";
export { repoRoot };

/** Path of the pinned Envoy binary; provisions it (scripts/provision/envoy.sh) if missing. */
export function envoyBinary(): string {
  if (process.env.MELTEMI_ENVOY_BIN) return process.env.MELTEMI_ENVOY_BIN;
  return execFileSync(path.join(repoRoot, "scripts/provision/envoy.sh"), { encoding: "utf8" }).trim();
}

export interface EnvoyOptions {
  /** Bootstrap as an object (serialized to JSON, which Envoy reads as YAML). */
  bootstrap: object;
  /** Worker threads (--concurrency). */
  concurrency?: number;
  /** Envoy log level; wasm logs go to the `wasm` component at info. */
  logLevel?: string;
  readyTimeoutMs?: number;
  /** Its own process group (the demo: Ctrl-C reaches the demo, which stops Envoy in order). */
  detached?: boolean;
  /** Working directory to create Envoy's files in (default: a new temporary directory). */
  dir?: string;
}

const running = new Set<ChildProcess>();
process.on("exit", () => { for (const p of running) p.kill("SIGKILL"); });

export class Envoy {
  private constructor(
    readonly process: ChildProcess,
    readonly dir: string,
    readonly adminUrl: string,
  ) {}

  static async start(opts: EnvoyOptions): Promise<Envoy> {
    const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "meltemi-envoy-"));
    fs.mkdirSync(dir, { recursive: true });
    const bootstrapPath = path.join(dir, "bootstrap.json");
    const adminPath = path.join(dir, "admin-address");
    fs.writeFileSync(bootstrapPath, JSON.stringify(opts.bootstrap, null, 2));
    const log = fs.openSync(path.join(dir, "envoy.log"), "a");
    const child = spawn(envoyBinary(), [
      "-c", bootstrapPath,
      "--concurrency", String(opts.concurrency ?? 2),
      "--disable-hot-restart",
      "--admin-address-path", adminPath,
      "-l", opts.logLevel ?? "warning",
      "--component-log-level", "wasm:info",
    ], { stdio: ["ignore", log, log], detached: opts.detached ?? false });
    fs.closeSync(log);
    running.add(child);
    child.on("exit", () => running.delete(child));

    const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
    try {
      while (!fs.existsSync(adminPath) || fs.readFileSync(adminPath, "utf8").trim() === "") {
        await Envoy.checkAlive(child, dir, deadline);
      }
      const envoy = new Envoy(child, dir, "http://" + fs.readFileSync(adminPath, "utf8").trim());
      while (true) {
        await Envoy.checkAlive(child, dir, deadline);
        try {
          const r = await fetch(envoy.adminUrl + "/ready");
          if (r.status === 200) return envoy;
        } catch { /* admin not accepting yet */ }
      }
    } catch (err) {
      child.kill("SIGKILL");
      throw err;
    }
  }

  private static async checkAlive(child: ChildProcess, dir: string, deadline: number): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`envoy exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${readLog(dir)}`);
    }
    if (Date.now() > deadline) throw new Error(`envoy not ready in time:\n${readLog(dir)}`);
    await new Promise((r) => setTimeout(r, 50));
  }

  get alive(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  log(): string {
    return readLog(this.dir);
  }

  async admin(pathAndQuery: string): Promise<string> {
    const r = await fetch(this.adminUrl + pathAndQuery);
    if (!r.ok) throw new Error(`envoy admin ${pathAndQuery}: HTTP ${r.status}`);
    return r.text();
  }

  /** The port Envoy bound for the listener named `name`. */
  async listenerPort(name: string): Promise<number> {
    const listeners = JSON.parse(await this.admin("/listeners?format=json")) as {
      listener_statuses: { name: string; local_address: { socket_address: { port_value: number } } }[];
    };
    const l = listeners.listener_statuses.find((s) => s.name === name);
    if (!l) throw new Error(`no listener ${name}`);
    return l.local_address.socket_address.port_value;
  }

  /** One stat by its Envoy name (e.g. `cluster.<name>.upstream_cx_total`), from /stats; undefined if absent. */
  async stat(name: string): Promise<number | undefined> {
    const exact = "^" + name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "$";
    const text = await this.admin("/stats?filter=" + encodeURIComponent(exact));
    const line = text.split("\n").find((l) => l.startsWith(name + ": "));
    return line === undefined ? undefined : Number(line.slice(name.length + 2));
  }

  /**
   * A metric the Wasm module defines (`wasmcustom.<name>` in /stats), summed over all its tag values:
   * the module writes Istio-style tags into the stat name (`wasmcustom.reason=.=over_limit;.;<name>`),
   * and /stats shows that full name whatever the bootstrap's tag extraction rules are. For tests that
   * count events regardless of their labels.
   */
  async wasmStatTotal(name: string): Promise<number> {
    const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const line = new RegExp(`^wasmcustom\\.(?:[A-Za-z_]+=\\.=[^;]*;\\.;)*${escaped}: (\\d+)$`);
    const text = await this.admin("/stats?filter=" + encodeURIComponent(escaped));
    let total = 0;
    for (const l of text.split("\n")) {
      const m = line.exec(l);
      if (m) total += Number(m[1]);
    }
    return total;
  }

  /** Prometheus text from /stats/prometheus, parsed into `name{labels}` (or `name`) -> value. */
  async prometheus(): Promise<Map<string, number>> {
    return parsePrometheus(await this.admin("/stats/prometheus"));
  }

  async stop(): Promise<void> {
    if (this.alive) {
      const exited = new Promise((r) => this.process.once("exit", r));
      this.process.kill("SIGTERM");
      const timer = setTimeout(() => this.process.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
  }

  /** Removes the working directory (keeps it when MELTEMI_KEEP_ENVOY_DIR is set). */
  cleanup(): void {
    if (!process.env.MELTEMI_KEEP_ENVOY_DIR) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function readLog(dir: string): string {
  try {
    return fs.readFileSync(path.join(dir, "envoy.log"), "utf8");
  } catch {
    return "(no envoy log)";
  }
}

export function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    // Envoy writes an empty label set as `{}` (e.g. `meltemi_connections_total{} 3`): key it by name.
    const key = line.slice(0, i).replace(/\{\}$/, "");
    out.set(key, Number(line.slice(i + 1)));
  }
  return out;
}

/**
 * Starts Envoy, runs `body`, and always stops it. When `body` fails, Envoy's log is printed so the
 * failure can be understood from CI output alone.
 */
export async function withEnvoy<T>(opts: EnvoyOptions, body: (envoy: Envoy) => Promise<T>): Promise<T> {
  const envoy = await Envoy.start(opts);
  try {
    return await body(envoy);
  } catch (err) {
    console.error(`---- envoy log (${envoy.dir}) ----\n${envoy.log()}\n---- end of envoy log ----`);
    throw err;
  } finally {
    await envoy.stop();
    envoy.cleanup();
  }
}
