// The demo's Dubbo service (real Apache Dubbo 3 provider, test/peers/dubbo) in one version, and its
// caller: the peers' open-loop load generator (Load.java) through the caller's sidecar. Both are JVMs
// in their own process groups (processes.ts) and halt when their stdin closes.
import type { ChildProcess } from "node:child_process";
import { freePort } from "../test/support/tcp";
import { Processes } from "./processes";
import type { CallRecord } from "./summary";
import type { Mix } from "./thrift";

const STARTUP_MS = 120_000;

function javaArgs(classpath: string, runDir: string, props: Record<string, string>, main: string, args: string[]): string[] {
  // Tiered compilation level 1 starts a JVM faster; the heap is capped for a small machine. The run
  // directory on the command line tags the process as the demo's (the demo's test looks for leftovers).
  return ["-Xmx256m", "-XX:TieredStopAtLevel=1", `-Dmeltemi.demo.run=${runDir}`,
    ...Object.entries(props).map(([k, v]) => `-D${k}=${v}`), "-cp", classpath, `meltemi.peers.dubbo.${main}`, ...args];
}

function waitFor(child: ChildProcess, name: string, ready: Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready within ${STARTUP_MS / 1000} s:\n${Processes.lastErrors(child)}`)), STARTUP_MS);
    child.once("exit", (code, signal) => { clearTimeout(timer); reject(new Error(`${name} exited (${code ?? signal}):\n${Processes.lastErrors(child)}`)); });
    ready.then(() => { clearTimeout(timer); resolve(); });
  });
}

/** A provider of EchoService whose replies carry the response attachment served-by=<version>. */
export async function startDubboService(procs: Processes, classpath: string, runDir: string, version: string): Promise<{ port: number }> {
  const port = await freePort();
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  const child = procs.spawn(`dubbo provider ${version}`, "java",
    javaArgs(classpath, runDir, { "meltemi.served-by": version }, "Provider", [String(port), "--exit-on-stdin-eof"]),
    (line) => { if (line === `READY ${port}`) ready(); });
  await waitFor(child, `dubbo provider ${version}`, readyP);
  return { port };
}

/** Calls dubbo://<host>:<port> at `rate` calls a second (EchoService echo / nothing by weight). */
export async function startDubboLoad(procs: Processes, classpath: string, runDir: string, port: number, rate: number, mix: readonly Mix[], record: (r: CallRecord) => void, host = "127.0.0.1"): Promise<void> {
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  const child = procs.spawn("dubbo load", "java",
    javaArgs(classpath, runDir, {}, "Load", [`dubbo://${host}:${port}`, String(rate), mix.map((m) => `${m.method}:${m.weight}`).join(",")]),
    (line) => {
      if (line === "READY") { ready(); return; }
      if (!line.startsWith("{")) return;
      const r = JSON.parse(line) as { method: string; ok: boolean; servedBy?: string; micros: number; error?: string };
      record(r.ok
        ? { protocol: "dubbo", method: r.method, version: r.servedBy ?? undefined, micros: r.micros }
        : { protocol: "dubbo", method: r.method, micros: r.micros, error: r.error ?? "" });
    });
  await waitFor(child, "dubbo load generator", readyP);
}
