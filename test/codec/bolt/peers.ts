// Real SOFA Bolt peers (test/peers/bolt, built by scripts/provision/bolt.sh): a server per "version"
// and one client CLI. Every wait is bounded; every process is killed by the caller's t.after (SIGKILL).
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../support/tcp";
import { PeerProcess } from "../../support/peer_process";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const STARTUP_MS = 60_000;
const CALL_MS = 20_000;

/** Builds the peers when needed (Maven, cached in ~/.m2) and returns their Java classpath. */
// Named like the Dubbo one: scripts/test-tiers.mjs spots a JVM test in the unit tier by `peersClasspath(`.
export function peersClasspath(): string {
  const file = execFileSync(path.join(root, "scripts/provision/bolt.sh"), { encoding: "utf8", timeout: 600_000, stdio: ["ignore", "pipe", "inherit"] }).trim();
  return fs.readFileSync(file, "utf8").trim();
}

function java(classpath: string, main: string, args: string[]): ChildProcessWithoutNullStreams {
  return spawn("java", ["-Xmx192m", "-XX:TieredStopAtLevel=1", "-cp", classpath, `meltemi.peers.bolt.${main}`, ...args], { stdio: "pipe" });
}

/** A Bolt server on 127.0.0.1 answering "NAME:arg [headers]". */
export async function startBoltServer(classpath: string, name: string): Promise<{ port: number; kill(): void }> {
  const port = await freePort();
  const p = new PeerProcess(`bolt server ${name}`, java(classpath, "Server", [name, String(port)]));
  try { await p.waitLine((l) => l === `READY ${port}`, STARTUP_MS); } catch (e) { p.kill(); throw e; }
  return { port, kill: () => p.kill() };
}

export interface BoltCall { port: number; method: string; arg?: string; close?: boolean; headers?: Record<string, string>; timeout?: number }
export interface BoltResult { ok: boolean; result?: string; error?: string; message?: string; root?: string }

/** The Bolt client CLI: one call at a time, one pooled connection per address until `close`. */
export class BoltClient {
  private constructor(private readonly p: PeerProcess) {}

  static async start(classpath: string): Promise<BoltClient> {
    const p = new PeerProcess("bolt client", java(classpath, "Client", []));
    try { await p.waitLine((l) => l === "READY", STARTUP_MS); } catch (e) { p.kill(); throw e; }
    return new BoltClient(p);
  }

  async call(c: BoltCall): Promise<BoltResult> {
    const fields = [`addr=127.0.0.1:${c.port}`, `method=${c.method}`, `arg=${c.arg ?? ""}`, `timeout=${c.timeout ?? 5000}`];
    if (c.close) fields.push("close=1");
    for (const [k, v] of Object.entries(c.headers ?? {})) fields.push(`h.${k}=${v}`);
    this.p.write(fields.join("\t"));
    return JSON.parse(await this.p.waitLine((l) => l.startsWith("{"), CALL_MS)) as BoltResult;
  }

  kill(): void { this.p.kill(); }
}
