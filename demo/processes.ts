// Every process the demo starts, each in its own process group, so that the demo (not the terminal's
// Ctrl-C, which reaches only the demo) stops them in order, and a stop reaches anything they spawned.
// A stop sends SIGTERM to each group, waits, then SIGKILLs what is left; if the demo itself dies,
// the exit handler SIGKILLs every group, and the Java peers also halt when their stdin closes.
import { type ChildProcess, spawn } from "node:child_process";
import readline from "node:readline";

const STOP_GRACE_MS = 5_000;

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try { process.kill(-child.pid, signal); } catch { /* the group is gone already */ }
}

export class Processes {
  private readonly children: { name: string; child: ChildProcess }[] = [];

  constructor() {
    process.on("exit", () => { for (const { child } of this.children) signalGroup(child, "SIGKILL"); });
  }

  /** Tracks a process started elsewhere (it must have been spawned `detached`, i.e. as a group leader). */
  track(name: string, child: ChildProcess): void {
    this.children.push({ name, child });
  }

  /** Starts `command` in its own process group with piped stdio; `onLine` gets each stdout line. */
  spawn(name: string, command: string, args: string[], onLine?: (line: string) => void): ChildProcess {
    const child = spawn(command, args, { stdio: "pipe", detached: true });
    this.track(name, child);
    if (onLine) readline.createInterface({ input: child.stdout! }).on("line", onLine);
    else child.stdout!.resume();
    const errors: string[] = [];
    readline.createInterface({ input: child.stderr! }).on("line", (l) => { errors.push(l); if (errors.length > 50) errors.shift(); });
    (child as ChildProcess & { lastErrors: string[] }).lastErrors = errors;
    child.on("error", (e) => errors.push(String(e)));
    return child;
  }

  /** The last stderr lines of a process started by spawn (for error messages). */
  static lastErrors(child: ChildProcess): string {
    return ((child as ChildProcess & { lastErrors?: string[] }).lastErrors ?? []).join("\n");
  }

  /** Process ids of the processes still running. */
  pids(): number[] {
    return this.children.filter(({ child }) => alive(child)).map(({ child }) => child.pid!).filter((p) => p !== undefined);
  }

  /** Stops every group, the last started first: SIGTERM, then SIGKILL after a grace period. */
  async stopAll(): Promise<void> {
    const running = [...this.children].reverse().filter(({ child }) => alive(child));
    await Promise.all(running.map(async ({ child }) => {
      const exited = new Promise((r) => child.once("exit", r));
      signalGroup(child, "SIGTERM");
      const timer = setTimeout(() => signalGroup(child, "SIGKILL"), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
      // Whatever the leader left behind in its group goes too.
      signalGroup(child, "SIGKILL");
    }));
  }
}
