// Linux `perf record` of the Envoy process over a measurement window, reduced to the share of samples
// per DSO. The official Envoy binary is stripped and V8 writes no perf map for its JIT code, so the DSO
// split is what perf can tell: `[JIT] tid N` is V8's generated code, i.e. the Wasm module; `envoy`
// is Envoy's C++ (filters, and the host calls the module makes); `[kernel.kallsyms]` is mostly sockets.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

let available: boolean | undefined;

/** Whether `perf` runs here (installed, and allowed to record our own processes). */
export function perfAvailable(): boolean {
  if (available === undefined) {
    try {
      execFileSync("perf", ["record", "-q", "-o", "/dev/null", "--", "true"], { stdio: "ignore", timeout: 10_000 });
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

export class PerfRecording {
  private readonly file: string;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  constructor(pid: number) {
    this.file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "meltemi-perf-")), "perf.data");
    this.child = spawn("perf", ["record", "-q", "-F", "499", "-p", String(pid), "-o", this.file], { stdio: "ignore" });
    this.exited = new Promise((r) => { this.child.once("exit", () => r()); this.child.once("error", () => r()); });
  }

  /** Stops recording; the share of samples per DSO (empty when perf failed). */
  async stop(): Promise<Map<string, number>> {
    if (this.child.exitCode === null) this.child.kill("SIGINT");
    await this.exited;
    const shares = new Map<string, number>();
    try {
      const report = execFileSync("perf", ["report", "-i", this.file, "--stdio", "--no-children", "--sort", "dso", "-q"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 60_000 });
      for (const line of report.split("\n")) {
        const m = /^\s*([\d.]+)%\s+(.+?)\s*$/.exec(line);
        if (m) shares.set(m[2].startsWith("[JIT]") ? "[JIT]" : m[2], (shares.get(m[2].startsWith("[JIT]") ? "[JIT]" : m[2]) ?? 0) + Number(m[1]) / 100);
      }
    } catch { /* no samples or no perf: no shares */ }
    fs.rmSync(path.dirname(this.file), { recursive: true, force: true });
    return shares;
  }
}
