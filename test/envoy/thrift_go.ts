// The real Apache Thrift Go client (test/peers/thrift-go, built by scripts/provision/thrift-go.sh),
// driven a line (one call) at a time: "hello NAME [KEY=VALUE ...]" (THeader headers with -transport header).
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { until } from "../wait";
import { repoRoot } from "./envoy";

/** [version, binary path]: the client built with each version of the Go library. */
export function goClientBuilds(): Array<[string, string]> {
  return execFileSync(path.join(repoRoot, "scripts/provision/thrift-go.sh"), { encoding: "utf8" })
    .trim().split("\n").map((line) => line.split(" ") as [string, string]);
}

export interface Outcome { op: string; ok: boolean; result?: string; error?: string }

/** The Go client, built once (scripts/provision/thrift-go.sh), driven a line (one call) at a time. */
export class GoClient {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly outcomes: Outcome[] = [];
  private waiting: (() => void) | null = null;
  stderr = "";

  constructor(binary: string, port: number, transport: "framed" | "buffered" | "header", protocol: "binary" | "compact") {
    this.child = spawn(binary, ["-addr", `127.0.0.1:${port}`, "-transport", transport, "-protocol", protocol]);
    this.child.stderr.on("data", (d: Buffer) => { this.stderr += d.toString(); });
    readline.createInterface({ input: this.child.stdout }).on("line", (line) => {
      this.outcomes.push(JSON.parse(line) as Outcome);
      this.waiting?.();
    });
  }

  async run(line: string): Promise<Outcome> {
    const before = this.outcomes.length;
    this.child.stdin.write(`${line}\n`);
    await until(`the Go client's answer to "${line}" (stderr: ${this.stderr})`, () => this.outcomes.length > before, 30_000);
    return this.outcomes[before]!;
  }

  close(): void {
    this.child.stdin.end();
    this.child.kill();
  }
}

