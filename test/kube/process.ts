// Child processes of the kube harness: output to a log file, killed (and their work dirs removed) when
// the test process exits whatever the path (a failed assertion, an uncaught error, a signal), stopped
// with SIGTERM then SIGKILL.
import { ChildProcess, spawn, type SpawnOptions } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const running = new Set<ChildProcess>();
const workDirs = new Set<string>();
const killAll = () => {
  for (const p of running) p.kill("SIGKILL");
  if (!process.env.MELTEMI_KEEP_KUBE_DIR) for (const d of workDirs) fs.rmSync(d, { recursive: true, force: true });
};
process.on("exit", killAll);
// A signal (the test runner's timeout, Ctrl-C, CI stopping) ends Node without "exit": kill the
// children, then re-raise the signal so the default action (terminate) still happens.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    killAll();
    process.kill(process.pid, signal);
  });
}

/** Makes a temp work dir that is removed when the process exits, unless `removeWorkDir` did it before. */
export function makeWorkDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  workDirs.add(dir);
  return dir;
}

/** Removes a work dir now (kept when MELTEMI_KEEP_KUBE_DIR is set, to read its logs). */
export function removeWorkDir(dir: string): void {
  workDirs.delete(dir);
  if (!process.env.MELTEMI_KEEP_KUBE_DIR) fs.rmSync(dir, { recursive: true, force: true });
}

/** Starts `bin` with stdout and stderr appended to `logPath` (`options`: cwd, env). */
export function startLogged(bin: string, args: string[], logPath: string, options: Pick<SpawnOptions, "cwd" | "env"> = {}): ChildProcess {
  const log = fs.openSync(logPath, "a");
  try {
    const child = spawn(bin, args, { ...options, stdio: ["ignore", log, log] });
    running.add(child);
    child.on("exit", () => running.delete(child));
    return child;
  } finally {
    fs.closeSync(log);
  }
}

export function isAlive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Sends `signal` (SIGTERM unless told), SIGKILL after `graceMs`, and resolves once the process is gone. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM", graceMs = 15_000): Promise<void> {
  if (!isAlive(child)) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

export function readLog(logPath: string): string {
  try {
    return fs.readFileSync(logPath, "utf8");
  } catch {
    return `(no log at ${logPath})`;
  }
}

/** The last `lines` lines of a log, for error messages that must stay readable. */
export function tailLog(logPath: string, lines = 40): string {
  return readLog(logPath).split("\n").slice(-lines).join("\n");
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
