// The dubbo-go consumer (test/peers/dubbo-go, built by scripts/provision/dubbo-go.sh): one process, one
// call per stdin line, one "result {json}" line per call. dubbo-go logs to stdout as well; only the
// prefixed lines are read.
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { repoRoot } from "./envoy";

/** Builds the consumer when needed and returns its path. */
export function dubboGoBinary(): string {
  return execFileSync(path.join(repoRoot, "scripts/provision/dubbo-go.sh"), { encoding: "utf8", timeout: 1_200_000, stdio: ["ignore", "pipe", "inherit"] }).trim();
}

export interface GoCall {
  port: number;
  method: "echo" | "nothing" | "fail";
  arg?: string;
  group?: string;
  version?: string;
  /** ms */
  timeout?: number;
  attachments?: Record<string, string>;
}

export interface GoOutcome { ok: boolean; result?: unknown; error?: string }

const CALL_MS = 30_000;

export class DubboGoConsumer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly results: GoOutcome[] = [];
  private readonly log: string[] = [];
  private wake: (() => void) | null = null;
  private exited = false;

  /**
   * `connections`, `heartbeat` (a Go duration): dubbo-go's getty client settings; left out, dubbo-go's
   * defaults (a pool of 16 connections per provider address, a heartbeat every 30 s).
   */
  constructor(binary: string, opts: { connections?: number; heartbeat?: string } = {}) {
    const args: string[] = [];
    if (opts.connections !== undefined) args.push("-connections", String(opts.connections));
    if (opts.heartbeat !== undefined) args.push("-heartbeat", opts.heartbeat);
    this.child = spawn(binary, args, { stdio: "pipe" });
    const take = (line: string) => {
      if (line.startsWith("result ")) this.results.push(JSON.parse(line.slice(7)) as GoOutcome);
      else if (this.log.push(line) > 200) this.log.shift();
      this.wake?.();
    };
    readline.createInterface({ input: this.child.stdout }).on("line", take);
    readline.createInterface({ input: this.child.stderr }).on("line", take);
    this.child.on("exit", () => { this.exited = true; this.wake?.(); });
  }

  /** Resolves when the next result line arrives; fails if the process exits or CALL_MS passes first. */
  private async next(what: string): Promise<GoOutcome> {
    return new Promise<GoOutcome>((resolve, reject) => {
      const timer = setTimeout(() => { this.wake = null; reject(new Error(`dubbo-go consumer: no answer to ${what} within ${CALL_MS} ms; log:\n${this.log.slice(-30).join("\n")}`)); }, CALL_MS);
      const check = () => {
        const r = this.results.shift();
        if (r !== undefined) { clearTimeout(timer); this.wake = null; resolve(r); }
        else if (this.exited) { clearTimeout(timer); this.wake = null; reject(new Error(`dubbo-go consumer exited; log:\n${this.log.slice(-30).join("\n")}`)); }
      };
      this.wake = check;
      check();
    });
  }

  async call(c: GoCall): Promise<GoOutcome> {
    const fields = [`url=dubbo://127.0.0.1:${c.port}`, `method=${c.method}`, `arg=${c.arg ?? ""}`];
    for (const k of ["group", "version", "timeout"] as const) if (c[k] !== undefined) fields.push(`${k}=${c[k]}`);
    for (const [k, v] of Object.entries(c.attachments ?? {})) fields.push(`att.${k}=${v}`);
    const line = fields.join("\t");
    this.child.stdin.write(`${line}\n`);
    return this.next(JSON.stringify(line));
  }

  /** dubbo-go's recent log lines (stdout and stderr, without the result lines). */
  logTail(): string { return this.log.slice(-30).join("\n"); }

  kill(): void { if (!this.exited) this.child.kill("SIGKILL"); }
}
