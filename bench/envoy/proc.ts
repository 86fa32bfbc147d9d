// What Linux says about a process: CPU time (/proc/<pid>/stat utime + stime) and resident memory
// (/proc/<pid>/status VmRSS), and core pinning with taskset (util-linux).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try { ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100; } catch { ticksPerSecond = 100; }
  }
  return ticksPerSecond;
}

/** CPU seconds (user + system) the process used so far, all threads. */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / clockTicks(); // utime, stime (fields 14, 15)
}

/** Resident set size in bytes. */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Pins every thread of `pid` to `cpus` (e.g. "0"); false when taskset is missing or refuses. */
export function pin(pid: number, cpus: string): boolean {
  try {
    execFileSync("taskset", ["-a", "-p", "-c", cpus, String(pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** The machine, for the record: cores, CPU model, load averages. */
export function machine(): { nproc: number; cpuModel: string; loadavg: number[]; kernel: string } {
  return { nproc: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? "?", loadavg: os.loadavg(), kernel: os.release() };
}
