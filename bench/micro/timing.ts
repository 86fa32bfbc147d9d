// Timing helpers for the micro-benchmarks: run a body in batches, keep the median of several batches.
import { performance } from "node:perf_hooks";

/** Median of `values` (copied and sorted). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Nanoseconds per operation: `body(n)` performs n operations; after a warm-up batch, `batches` batches
 * of `n` are timed and the median is returned (with the spread, min..max). Timed in this process's CPU
 * time (process.cpuUsage), not wall time: on a shared machine the wall clock also counts the time other
 * processes held the core. `wallNs` is the wall-clock median, for comparison.
 */
export function nsPerOp(body: (n: number) => void, n: number, batches: number): { ns: number; min: number; max: number; wallNs: number } {
  body(Math.max(1, n >> 2)); // warm-up: let V8 tier up the Wasm and the JS around it
  const per: number[] = [];
  const wall: number[] = [];
  for (let b = 0; b < batches; b++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    body(n);
    const c = process.cpuUsage(c0);
    wall.push(((performance.now() - t0) * 1e6) / n);
    per.push(((c.user + c.system) * 1e3) / n);
  }
  return { ns: median(per), min: Math.min(...per), max: Math.max(...per), wallNs: median(wall) };
}
