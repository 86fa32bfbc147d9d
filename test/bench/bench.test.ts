// The benchmark command (bench/run.ts) runs end to end in its smoke mode and produces a well-formed
// result: every bar of docs/performance.md it covers, for both protocols, the four arms in the real Envoy
// (and the diagnostic arms 5, Dubbo only 6, and the floor module's 7, 8 and 9) with every reply validated,
// and a soak curve. Nothing
// here looks at the figures themselves: timings are never asserted (CONTRIBUTING.md); the smoke mode
// measures nothing meaningful.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { repoRoot } from "../envoy/envoy";
import { armsTable, barsTable, microTable, type Bar } from "../../bench/report";
import type { EnvoyRun } from "../../bench/envoy/arms-run";

test("npm run bench -- --smoke --json: the bars, nine arms (arm 5: tracing; 7, 8, 9, 10: the floor) x two protocols and arm 6 for Dubbo, micro-benchmarks and a soak", { timeout: 120_000 }, async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", path.join(repoRoot, "bench/run.ts"), "--smoke", "--json", "--no-pin"], {
    cwd: repoRoot, maxBuffer: 64 << 20, timeout: 110_000,
  });
  const r = JSON.parse(stdout) as { bars: Bar[]; arms: EnvoyRun; soak: { requests: number; samples: { wasmBytes: number; rssBytes: number }[] }; micro: { filter: unknown[]; codec: unknown[] }; environment: { nproc: number; loadavg1: { max: number } } };
  for (const b of r.bars) {
    assert.equal(typeof b.value, "number", b.figure);
    // null: not measurable in this run (an unsaturated Envoy, noise larger than the bar), said in the note.
    assert.ok(b.met === true || b.met === false || (b.met === null && (b.note ?? "").length > 0), `${b.figure}: met is ${b.met}, note ${b.note}`);
  }
  const figures = (p: string) => r.bars.filter((b) => b.protocol === p).map((b) => b.figure);
  for (const p of ["thrift", "dubbo"]) {
    for (const f of ["throughput arm 2 / arm 1 (saturation)", "throughput arm 4 / arm 3 (saturation)", "added latency p50, arm 2 - arm 1 at 500/s", "added latency p99, arm 2 - arm 1 at 500/s"]) {
      assert.ok(figures(p).includes(f), `${p}: ${f} missing from ${JSON.stringify(figures(p))}`);
    }
    assert.ok(figures(p).some((f) => f.startsWith("filter CPU per request")), `${p}: filter CPU missing`);
    // Arm 6 (dubbo_proxy routing on an attachment) is Dubbo only: every reply valid means its routes matched.
    const arms = p === "dubbo" ? [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] : [1, 2, 3, 4, 5, 7, 8, 9, 10];
    assert.deepEqual([...new Set(r.arms.closed.filter((s) => s.protocol === p).map((s) => s.arm))].sort((a, b) => a - b), arms);
    assert.equal(figures(p).some((f) => f.includes("(arm 6 - arm 3)")), p === "dubbo", `${p}: the arm 6 figure`);
    // The floor arms: both ceilings and what Meltemi adds over them.
    for (const f of ["the floor: arm 1 / arm 7", "the floor: arm 3 / arm 8", "(perConnection: arm 2 - arm 7)", "(perRequest: arm 4 - arm 8)", "arm 3 / arm 9", "(perRequest: arm 4 - arm 9)", "arm 1 / arm 10", "(arm 10 - arm 7)", "(perConnection: arm 2 - arm 10)"]) {
      assert.ok(figures(p).some((x) => x.includes(f)), `${p}: ${f} missing`);
    }
    for (const arm of arms) {
      const c = r.arms.closed.find((s) => s.protocol === p && s.arm === arm);
      assert.ok(c && c.rps > 0 && c.invalid === 0, `${p} arm ${arm}: ${JSON.stringify(c)}`);
      // The floor arms run the closed loop only (no latency bar compares them).
      if (arm >= 7) continue;
      const o = r.arms.open.find((s) => s.protocol === p && s.arm === arm);
      assert.ok(o && o.count > 0 && o.invalid === 0 && o.p50Ms > 0, `${p} arm ${arm} open: ${JSON.stringify(o)}`);
    }
  }
  assert.deepEqual(r.arms.upstreamErrors, []);
  assert.ok(r.arms.collectorBytes > 0, "arm 5 exported its spans to the collector");
  assert.ok(r.arms.floorTelemetryAnswers > 0, "arm 10's floor module made its telemetry calls");
  assert.ok(r.bars.some((b) => b.figure.startsWith("Wasm linear memory per VM")));
  assert.ok(r.soak.requests >= 4000 && r.soak.samples.length > 2);
  for (const s of r.soak.samples) assert.ok(s.wasmBytes > 0 && s.rssBytes > 0, JSON.stringify(s));
  // 2 protocols x 5 configurations (pass-through, routes, authz + limit + routes, routes + tracing at 0%
  // and at 100%) x 2 batch sizes.
  assert.equal(r.micro.filter.length, 20);
  assert.match(microTable(r.micro.filter as never, r.micro.codec as never), /\| tracing off: CPU ns\/request \|/);
  assert.equal(r.environment.nproc > 0 && r.environment.loadavg1.max >= 0, true);
  // The tables render from the same data.
  assert.match(barsTable(r.bars), /^\| figure +\| protocol +\| measured +\| bar +\| met +\|$/m);
  assert.equal(armsTable(r.arms, ["thrift", "dubbo"], [500]).split("\n").length, 2 + 19);
});
