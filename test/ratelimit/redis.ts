// Runs Debian's redis-server (scripts/provision/ratelimit.sh) for a test: its own directory and free
// loopback port, no config file (everything on the command line), killed on every path. `restart`
// brings it back on the same port, with or without the data it had, to show what the rate limit
// service's counters do across a Redis restart.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { freePort } from "../support/tcp";

const running = new Set<ChildProcess>();
process.on("exit", () => { for (const p of running) p.kill("SIGKILL"); });

export interface RedisOptions {
  /**
   * Keep the data across a graceful stop: with a save point configured, redis-server writes an RDB
   * snapshot into its directory when it shuts down on SIGTERM and loads it when it starts (Redis'
   * documented SHUTDOWN behaviour). Without, the data lives in memory only.
   */
  persistent?: boolean;
}

export class Redis {
  private process!: ChildProcess;

  private constructor(readonly port: number, readonly dir: string, private readonly options: RedisOptions) {}

  static async start(options: RedisOptions = {}): Promise<Redis> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meltemi-redis-"));
    // freePort is racy: another test may take the port first; redis-server then exits at once.
    for (let attempt = 1; ; attempt++) {
      const r = new Redis(await freePort(), dir, options);
      try {
        await r.spawn();
        return r;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
  }

  get url(): string {
    return `127.0.0.1:${this.port}`;
  }

  private async spawn(): Promise<void> {
    const args = [
      "--port", String(this.port), "--bind", "127.0.0.1", "--dir", this.dir,
      "--save", this.options.persistent ? "3600 1" : "", "--appendonly", "no",
      "--daemonize", "no", "--protected-mode", "yes", "--logfile", "",
    ];
    const log = fs.openSync(path.join(this.dir, "redis.log"), "a");
    const child = spawn("redis-server", args, { stdio: ["ignore", log, log] });
    fs.closeSync(log);
    running.add(child);
    child.on("exit", () => running.delete(child));
    this.process = child;
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}):\n${this.log()}`);
      if ((await this.command("PING").catch(() => "")) === "+PONG") return;
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`redis-server not answering PING in 20 s:\n${this.log()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** One inline command, its first reply line (enough for PING, DBSIZE, FLUSHALL). */
  command(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = net.connect(this.port, "127.0.0.1");
      let got = "";
      const timer = setTimeout(() => { s.destroy(); reject(new Error(`redis ${line}: no reply in 5 s`)); }, 5_000);
      s.on("connect", () => s.write(`${line}\r\n`));
      s.on("data", (d) => {
        got += d.toString("latin1");
        const end = got.indexOf("\r\n");
        if (end >= 0) {
          clearTimeout(timer);
          s.destroy();
          resolve(got.slice(0, end));
        }
      });
      s.on("error", (e) => { clearTimeout(timer); reject(e); });
    });
  }

  /** Graceful stop (SIGTERM: a persistent instance writes its snapshot), waits for the exit. */
  async stop(): Promise<void> {
    const p = this.process;
    if (p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once("exit", r));
    p.kill("SIGTERM");
    const timer = setTimeout(() => p.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** Stops and starts again on the same port and directory. */
  async restart(): Promise<void> {
    await this.stop();
    await this.spawn();
  }

  log(): string {
    try {
      return fs.readFileSync(path.join(this.dir, "redis.log"), "utf8").split("\n").slice(-20).join("\n");
    } catch {
      return "";
    }
  }

  cleanup(): void {
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill("SIGKILL");
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
