// Running the demo's entry point and reading its summary table (test/demo/*.test.ts).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { repoRoot } from "../envoy/envoy";

/** The demo's entry point, as scripts/demo.sh (`npm run demo`) ends by running it: the suite has set up and
 * built already (scripts/test.sh), so going through npm would only repeat setup and the whole build. */
export const DEMO = ["--import", "tsx", "demo/main.ts"];

export interface Run { code: number | null; signal: NodeJS.Signals | null; out: string }

/** Runs `command` in its own process group; `onOutput` may signal the group (as a terminal's Ctrl-C does). */
export function run(command: string, args: string[], onOutput?: (out: string, pgid: number) => void): Promise<Run> {
  const child = spawn(command, args, { cwd: repoRoot, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const add = (d: Buffer) => { out += d.toString(); onOutput?.(out, child.pid!); };
  child.stdout.on("data", add);
  child.stderr.on("data", add);
  return new Promise((resolve) => child.on("close", (code, signal) => resolve({ code, signal, out })));
}

/** The rows of the last table titled `title`: "protocol method" -> column -> number. */
export function table(out: string, title: string): Map<string, Record<string, number>> {
  const start = out.lastIndexOf(`--- ${title}`);
  assert.ok(start >= 0, `no "${title}" in the output:\n${out}`);
  const lines = out.slice(start).split("\n").slice(1);
  const header = lines[0].split(/ {2,}/).map((h) => h.trim());
  const rows = new Map<string, Record<string, number>>();
  for (const line of lines.slice(1)) {
    if (!/^(thrift|dubbo) /.test(line)) break;
    const cells = line.trim().split(/ +/);
    const row: Record<string, number> = {};
    header.slice(2).forEach((h, i) => { row[h] = Number(cells[2 + i]); });
    rows.set(`${cells[0]} ${cells[1]}`, row);
  }
  return rows;
}

/**
 * The final summary of a demo run on manifests/samples: both versions of each protocol served calls,
 * the rate limits and the faults rejected some, and the method routes held (Thrift echo only to v2,
 * Dubbo nothing only to v1).
 */
export function assertSamplesServed(out: string): void {
  const rows = table(out, "final summary");
  for (const protocol of ["thrift", "dubbo"]) {
    const mine = [...rows].filter(([k]) => k.startsWith(protocol + " ")).map(([, v]) => v);
    assert.ok(mine.reduce((n, row) => n + row["served v1"], 0) > 0, `${protocol}: v1 served calls\n${out}`);
    assert.ok(mine.reduce((n, row) => n + row["served v2"], 0) > 0, `${protocol}: v2 served calls\n${out}`);
    assert.ok(mine.reduce((n, row) => n + row["rej. rate limit"], 0) > 0, `${protocol}: rejections by the rate limit\n${out}`);
    assert.ok(mine.reduce((n, row) => n + row["rej. fault"], 0) > 0, `${protocol}: rejections by the fault\n${out}`);
  }
  // The method routes of manifests/samples/meltemi.yaml: Thrift echo only to v2, Dubbo nothing only to v1.
  assert.equal(rows.get("thrift echo")?.["served v1"], 0, out);
  assert.ok((rows.get("thrift echo")?.["served v2"] ?? 0) > 0, out);
  assert.equal(rows.get("dubbo nothing")?.["served v2"], 0, out);
}
