// Real SOFA Bolt peers (test/peers/bolt, built by scripts/provision/bolt.sh): a server per "version"
// and one client CLI. Every wait is bounded; every process is killed by the caller's t.after (SIGKILL).
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { freePort } from "../../support/tcp";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const STARTUP_MS = 60_000;
const CALL_MS = 20_000;

/** Builds the peers when needed (Maven, cached in ~/.m2) and returns their Java classpath. */
// Named like the Dubbo one: scripts/test-tiers.mjs spots a JVM test in the unit tier by `peersClasspath(`.
export function peersClasspath(): string {
  const file = execFileSync(path.join(root, "scripts/provision/bolt.sh"), { encoding: "utf8", timeout: 600_000, stdio: ["ignore", "pipe", "inherit"] }).trim();
  return fs.readFileSync(file, "utf8").trim();
}

class JavaProcess {
  private readonly lines: string[] = [];
  private readonly stderr: string[] = [];
  private waiters: Array<() => void> = [];
  private exited = false;

  constructor(readonly name: string, readonly child: ChildProcessWithoutNullStreams) {
    readline.createInterface({ input: child.stdout }).on("line", (l) => { this.lines.push(l); this.wake(); });
    readline.createInterface({ input: child.stderr }).on("line", (l) => { this.stderr.push(l); });
    child.on("exit", () => { this.exited = true; this.wake(); });
  }

  private wake(): void { const w = this.waiters; this.waiters = []; for (const f of w) f(); }

  async nextLine(match: (l: string) => boolean, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.lines.findIndex(match);
      if (i >= 0) return this.lines.splice(i, 1)[0];
      if (this.exited) throw new Error(`${this.name} exited; stderr:\n${this.stderr.slice(-20).join("\n")}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no line within ${timeoutMs} ms; stderr:\n${this.stderr.slice(-20).join("\n")}`);
      await new Promise<void>((r) => { const t = setTimeout(r, Math.min(left, 1000)); this.waiters.push(() => { clearTimeout(t); r(); }); });
    }
  }

  write(line: string): void { this.child.stdin.write(line + "\n"); }
  kill(): void { if (!this.exited) this.child.kill("SIGKILL"); }
}

function java(classpath: string, main: string, args: string[]): ChildProcessWithoutNullStreams {
  return spawn("java", ["-Xmx192m", "-XX:TieredStopAtLevel=1", "-cp", classpath, `meltemi.peers.bolt.${main}`, ...args], { stdio: "pipe" });
}

/** A Bolt server on 127.0.0.1 answering "NAME:arg [headers]". */
export async function startBoltServer(classpath: string, name: string): Promise<{ port: number; kill(): void }> {
  const port = await freePort();
  const p = new JavaProcess(`bolt server ${name}`, java(classpath, "Server", [name, String(port)]));
  try { await p.nextLine((l) => l === `READY ${port}`, STARTUP_MS); } catch (e) { p.kill(); throw e; }
  return { port, kill: () => p.kill() };
}

export interface BoltCall { port: number; method: string; arg?: string; close?: boolean; headers?: Record<string, string>; timeout?: number }
export interface BoltResult { ok: boolean; result?: string; error?: string; message?: string; root?: string }

/** The Bolt client CLI: one call at a time, one pooled connection per address until `close`. */
export class BoltClient {
  private constructor(private readonly p: JavaProcess) {}

  static async start(classpath: string): Promise<BoltClient> {
    const p = new JavaProcess("bolt client", java(classpath, "Client", []));
    try { await p.nextLine((l) => l === "READY", STARTUP_MS); } catch (e) { p.kill(); throw e; }
    return new BoltClient(p);
  }

  async call(c: BoltCall): Promise<BoltResult> {
    const fields = [`addr=127.0.0.1:${c.port}`, `method=${c.method}`, `arg=${c.arg ?? ""}`, `timeout=${c.timeout ?? 5000}`];
    if (c.close) fields.push("close=1");
    for (const [k, v] of Object.entries(c.headers ?? {})) fields.push(`h.${k}=${v}`);
    this.p.write(fields.join("\t"));
    return JSON.parse(await this.p.nextLine((l) => l.startsWith("{"), CALL_MS)) as BoltResult;
  }

  kill(): void { this.p.kill(); }
}
