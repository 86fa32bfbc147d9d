// The dubbo-go consumer (test/peers/dubbo-go, built by scripts/provision/dubbo-go.sh): one process, one
// call per stdin line, one "result {json}" line per call. dubbo-go logs to stdout as well; only the
// prefixed lines are read.
import { spawn, execFileSync } from "node:child_process";
import path from "node:path";
import { callLine } from "../codec/dubbo/peers";
import { PeerProcess } from "../support/peer_process";
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
const RESULT = "result ";

export class DubboGoConsumer {
  private readonly process: PeerProcess;

  /**
   * `connections`, `heartbeat` (a Go duration): dubbo-go's getty client settings; left out, dubbo-go's
   * defaults (a pool of 16 connections per provider address, a heartbeat every 30 s).
   */
  constructor(binary: string, opts: { connections?: number; heartbeat?: string } = {}) {
    const args: string[] = [];
    if (opts.connections !== undefined) args.push("-connections", String(opts.connections));
    if (opts.heartbeat !== undefined) args.push("-heartbeat", opts.heartbeat);
    this.process = new PeerProcess("dubbo-go consumer", spawn(binary, args, { stdio: "pipe" }));
  }

  /** One call; its `result` line (fails if the process exits or CALL_MS passes first). */
  async call(c: GoCall): Promise<GoOutcome> {
    this.process.write(callLine(c));
    return JSON.parse((await this.process.waitLine((l) => l.startsWith(RESULT), CALL_MS)).slice(RESULT.length)) as GoOutcome;
  }

  /** dubbo-go's recent log lines (stdout and stderr, without the result lines). */
  logTail(): string { return this.process.tail(); }

  kill(): void { this.process.kill(); }
}
