// A real peer driven through its standard streams (the Dubbo and Bolt Java CLIs, the dubbo-go consumer):
// it collects the lines it prints and hands out the first not yet taken that matches, within a bound.
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import readline from "node:readline";

export class PeerProcess {
  readonly stderr: string[] = [];
  private readonly lines: string[] = [];
  private waiters: Array<() => void> = [];
  private exited = false;

  constructor(readonly name: string, readonly child: ChildProcessWithoutNullStreams) {
    readline.createInterface({ input: child.stdout }).on("line", (l) => { this.lines.push(l); this.wake(); });
    readline.createInterface({ input: child.stderr }).on("line", (l) => { this.stderr.push(l); this.wake(); });
    child.on("exit", () => { this.exited = true; this.wake(); });
  }

  private wake(): void { const w = this.waiters; this.waiters = []; for (const f of w) f(); }

  /** Resolves with the first line (stdout, or stderr when `fromStderr`) that matches, not yet taken. */
  async waitLine(match: (l: string) => boolean, timeoutMs: number, fromStderr = false): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const source = fromStderr ? this.stderr : this.lines;
      const i = source.findIndex(match);
      if (i >= 0) return source.splice(i, 1)[0];
      if (this.exited) throw new Error(`${this.name} exited; ${this.tail()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no matching line within ${timeoutMs} ms; ${this.tail()}`);
      await new Promise<void>((r) => { const t = setTimeout(r, Math.min(left, 1000)); this.waiters.push(() => { clearTimeout(t); r(); }); });
    }
  }

  /** The last lines it printed and nobody took (some peers log to stdout), and the last of stderr. */
  tail(): string {
    return `stdout:\n${this.lines.slice(-20).join("\n")}\nstderr:\n${this.stderr.slice(-20).join("\n")}`;
  }

  write(line: string): void { this.child.stdin.write(line + "\n"); }
  kill(): void { if (!this.exited) this.child.kill("SIGKILL"); }
}
