// Turns the measurements into the figures docs/performance.md sets bars for (medians over rounds of
// per-round ratios, arms of a round being minutes apart at most) and prints them as tables.
import type { ClosedSample, EnvoyRun, OpenSample } from "./envoy/arms-run";
import { ARM_NAMES, type Arm, armsOf, nativeName } from "./envoy/arms";
import type { CodecFigure } from "./micro/codec";
import { TRACING, TRACING_UNSAMPLED, type FilterFigure } from "./micro/filter";
import { median } from "./micro/timing";
import type { SoakResult } from "./soak";
import type { ProtocolName } from "./load/wire";

export interface Bar {
  figure: string;
  protocol: ProtocolName | "-";
  value: number;
  unit: string;
  bar: string;
  /** true: met, false: missed, null: not measured / not meaningful (see note). */
  met: boolean | null;
  note?: string;
}

const fmt = (v: number, unit: string) => (Number.isNaN(v) ? "n/a" : unit === "x" ? v.toFixed(3) : unit === "us" || unit === "ns" ? v.toFixed(unit === "us" ? 1 : 0) : unit === "MiB" ? v.toFixed(2) : unit === "KB" ? v.toFixed(1) : String(v));

/** The arms of `p` the run measured (a run saved before an arm existed lacks it). */
function armsRun(run: EnvoyRun, p: ProtocolName): Arm[] {
  return armsOf(p).filter((a) => run.closed.some((s) => s.protocol === p && s.arm === a));
}

function perRound<T extends { round: number; protocol: ProtocolName; arm: Arm }>(samples: T[], p: ProtocolName, f: (byArm: Map<Arm, T>) => number): number[] {
  const rounds = [...new Set(samples.map((s) => s.round))];
  // A round counts when it holds every arm the samples of `p` hold.
  const arms = new Set(samples.filter((s) => s.protocol === p).map((s) => s.arm)).size;
  return rounds.map((r) => {
    const byArm = new Map(samples.filter((s) => s.round === r && s.protocol === p).map((s) => [s.arm, s] as [Arm, T]));
    return byArm.size === arms ? f(byArm) : NaN;
  }).filter((x) => !Number.isNaN(x));
}

export function envoyBars(run: EnvoyRun, protocols: ProtocolName[], rates: number[]): Bar[] {
  const bars: Bar[] = [];
  for (const p of protocols) {
    const closed = run.closed.filter((s) => s.protocol === p);
    const saturated = (a: Arm) => median(closed.filter((s) => s.arm === a).map((s) => s.envoyCoreUse));
    for (const [num, den, figure] of [[2, 1, "throughput arm 2 / arm 1 (saturation)"], [4, 3, "throughput arm 4 / arm 3 (saturation)"]] as [Arm, Arm, string][]) {
      const ratio = median(perRound(closed, p, (m) => m.get(num)!.rps / m.get(den)!.rps));
      const sat = Math.min(saturated(num), saturated(den));
      const errors = closed.filter((s) => s.arm === num || s.arm === den).reduce((n, s) => n + s.invalid, 0);
      const note = [
        sat < 0.9 ? `Envoy used ${(100 * sat).toFixed(0)}% of its core: not saturated, the load generator or other processes limited the rate` : "",
        errors > 0 ? `${errors} error replies` : "",
      ].filter(Boolean).join("; ") || undefined;
      // Unsaturated, the ratio says how fast the generator was, not Envoy: not a measurement of the bar.
      bars.push({ figure, protocol: p, value: ratio, unit: "x", bar: ">= 0.90", met: sat < 0.9 ? null : ratio >= 0.9, note });
      // The same ratio from Envoy's CPU per request (what one Envoy core could serve), robust when Envoy is not saturated.
      const cpuRatio = median(perRound(closed, p, (m) => m.get(den)!.envoyCpuUsPerRequest / m.get(num)!.envoyCpuUsPerRequest));
      bars.push({ figure: `${figure.replace(" (saturation)", "")} from Envoy CPU/request`, protocol: p, value: cpuRatio, unit: "x", bar: ">= 0.90", met: cpuRatio >= 0.9 });
    }
    // Meltemi's own CPU per request in Envoy (V8, real host calls): the Envoy CPU per request it adds.
    for (const [withM, without, mode] of [[2, 1, "perConnection"], [4, 3, "perRequest"]] as [Arm, Arm, string][]) {
      const added = median(perRound(closed, p, (m) => m.get(withM)!.envoyCpuUsPerRequest - m.get(without)!.envoyCpuUsPerRequest));
      bars.push({ figure: `filter CPU per request in Envoy (${mode}: Envoy CPU/request arm ${withM} - arm ${without})`, protocol: p, value: added, unit: "us", bar: "<= 2 us (bar set for the Node host)", met: added <= 2 });
      const inWasm = median(closed.filter((s) => s.arm === withM && !Number.isNaN(s.jitShare ?? NaN)).map((s) => s.envoyCpuUsPerRequest * s.jitShare));
      if (!Number.isNaN(inWasm)) {
        bars.push({ figure: `filter CPU per request in Wasm code in Envoy (${mode}: arm ${withM} Envoy CPU/request x perf share in V8 JIT code)`, protocol: p, value: inWasm, unit: "us", bar: "<= 2 us (bar set for the Node host)", met: inWasm <= 2 });
      }
    }
    // Tracing at 100% (arm 5) against the same arm without it (arm 4): no bar in docs/performance.md.
    const tracing = median(perRound(closed, p, (m) => m.get(5)!.envoyCpuUsPerRequest - m.get(4)!.envoyCpuUsPerRequest));
    bars.push({
      figure: "Envoy CPU per request added by tracing, 100% sampled (arm 5 - arm 4)", protocol: p, value: tracing, unit: "us", bar: "none",
      met: null, note: "informational: docs/performance.md sets no bar for tracing; at a sampling rate r the average is about r x this",
    });
    // Arm 6 (Dubbo only): the native router's own cost of matching an attachment, without Meltemi.
    if (armsRun(run, p).includes(6)) {
      const attachment = median(perRound(closed, p, (m) => m.get(6)!.envoyCpuUsPerRequest - m.get(3)!.envoyCpuUsPerRequest));
      const errors = run.closed.filter((s) => s.protocol === p && s.arm === 6).reduce((n, s) => n + s.invalid, 0);
      bars.push({
        figure: `Envoy CPU per request added by routing on an attachment in ${nativeName(p)} alone (arm 6 - arm 3)`, protocol: p, value: attachment, unit: "us", bar: "none",
        met: null, note: ["informational: the native router's own part of arm 4 - arm 3, whose routes match the routing key attachment", errors > 0 ? `${errors} error replies` : ""].filter(Boolean).join("; "),
      });
    }
    // The floor (arms 7 and 8: a module that reads every buffer once and does nothing else): the highest
    // ratio any Wasm network filter reaches in this Envoy, and what Meltemi adds on top of it.
    if (armsRun(run, p).includes(7) && armsRun(run, p).includes(8)) {
      for (const [floor, withM, without, bar, mode] of [[7, 2, 1, 0.75, "perConnection"], [8, 4, 3, 0.9, "perRequest"]] as [Arm, Arm, Arm, number, string][]) {
        const ratio = median(perRound(closed, p, (m) => m.get(without)!.envoyCpuUsPerRequest / m.get(floor)!.envoyCpuUsPerRequest));
        bars.push({
          figure: `the floor: arm ${without} / arm ${floor} from Envoy CPU/request (${ARM_NAMES[floor]})`, protocol: p, value: ratio, unit: "x", bar: "none",
          met: null, note: `informational: the ceiling of the ${mode} bar (>= ${bar}) for any Wasm network filter; ${ratio < bar ? "BELOW the bar" : "above the bar"}`,
        });
        const above = median(perRound(closed, p, (m) => m.get(withM)!.envoyCpuUsPerRequest - m.get(floor)!.envoyCpuUsPerRequest));
        bars.push({
          figure: `Envoy CPU per request Meltemi adds over the floor (${mode}: arm ${withM} - arm ${floor})`, protocol: p, value: above, unit: "us", bar: "none",
          met: null, note: "informational: Meltemi's own work (decode, match, tables, telemetry, rewrite) beyond one read per callback",
        });
      }
    }
    // Arm 10: arm 7's floor also making the host calls of Meltemi's per-request telemetry.
    if (armsRun(run, p).includes(10)) {
      const ratio = median(perRound(closed, p, (m) => m.get(1)!.envoyCpuUsPerRequest / m.get(10)!.envoyCpuUsPerRequest));
      bars.push({
        figure: `the floor with per-request telemetry calls: arm 1 / arm 10 from Envoy CPU/request (${ARM_NAMES[10]})`, protocol: p, value: ratio, unit: "x", bar: "none",
        met: null, note: `informational: the ceiling of the perConnection bar (>= 0.75) for a Wasm filter that times and counts every request in Envoy's stats; ${ratio < 0.75 ? "BELOW the bar" : "above the bar"}`,
      });
      const calls = median(perRound(closed, p, (m) => m.get(10)!.envoyCpuUsPerRequest - m.get(7)!.envoyCpuUsPerRequest));
      bars.push({
        figure: "Envoy CPU per request of the telemetry host calls alone (arm 10 - arm 7)", protocol: p, value: calls, unit: "us", bar: "none",
        met: null, note: "informational: a clock read per callback, a counter increment per callback that carries answers and a histogram record per answer, and nothing else",
      });
      const own = median(perRound(closed, p, (m) => m.get(2)!.envoyCpuUsPerRequest - m.get(10)!.envoyCpuUsPerRequest));
      bars.push({
        figure: "Envoy CPU per request Meltemi adds over that floor (perConnection: arm 2 - arm 10)", protocol: p, value: own, unit: "us", bar: "none",
        met: null, note: "informational: decode, decision, tables and the rest of Meltemi's work, beyond the reads and telemetry's host calls",
      });
    }
    // Arm 9: the floor in front of arm 4's native proxy, with requests that carry Meltemi's routing key
    // already: the least Meltemi's perRequest design (a Wasm filter writing a key the native router
    // matches) can cost, and what Meltemi's own work adds to it.
    if (armsRun(run, p).includes(9)) {
      const ratio = median(perRound(closed, p, (m) => m.get(3)!.envoyCpuUsPerRequest / m.get(9)!.envoyCpuUsPerRequest));
      bars.push({
        figure: `the floor of routing through ${nativeName(p)}: arm 3 / arm 9 from Envoy CPU/request (${ARM_NAMES[9]})`, protocol: p, value: ratio, unit: "x", bar: "none",
        met: null, note: `informational: the ceiling of the perRequest bar (>= 0.9) for a Wasm filter that routes through ${nativeName(p)} by a key in the frame; ${ratio < 0.9 ? "BELOW the bar" : "above the bar"}`,
      });
      const own = median(perRound(closed, p, (m) => m.get(4)!.envoyCpuUsPerRequest - m.get(9)!.envoyCpuUsPerRequest));
      bars.push({
        figure: "Envoy CPU per request Meltemi adds over that floor (perRequest: arm 4 - arm 9)", protocol: p, value: own, unit: "us", bar: "none",
        met: null, note: "informational: decode, decision, tables, telemetry, and writing the routing key (set_buffer_bytes)",
      });
    }
    for (const rate of rates) {
      const open = run.open.filter((s) => s.protocol === p && s.rate === rate);
      const d50 = median(perRound(open, p, (m) => (m.get(2)!.p50Ms - m.get(1)!.p50Ms) * 1000));
      const d99 = median(perRound(open, p, (m) => (m.get(2)!.p99Ms - m.get(1)!.p99Ms) * 1000));
      const lost = open.filter((x) => x.arm <= 2).reduce((s, x) => s + x.lost, 0);
      const errors = open.filter((x) => x.arm <= 2).reduce((s, x) => s + x.invalid, 0);
      const note = [lost > 0 ? `${lost} requests lost` : "", errors > 0 ? `${errors} error replies` : ""].filter(Boolean).join("; ") || undefined;
      // The filter can only add latency: arm 2 faster than arm 1 by more than the bar itself means the
      // noise of the machine is larger than what is measured, so the bar is neither met nor missed.
      const added = (what: string, d: number, limit: number): Bar => {
        const noisy = d < -limit;
        const why = noisy ? `arm 1's ${what} exceeded arm 2's by more than the bar: noise, not measurable in this run` : "";
        return {
          figure: `added latency ${what}, arm 2 - arm 1 at ${rate}/s`, protocol: p, value: d, unit: "us", bar: `<= +${limit} us`,
          met: noisy ? null : d <= limit, note: [note, why].filter(Boolean).join("; ") || undefined,
        };
      };
      bars.push(added("p50", d50, 50), added("p99", d99, 200));
    }
  }
  const wasm = Math.max(...[...run.closed, ...run.open].map((s) => s.wasmBytes ?? NaN).filter((x) => !Number.isNaN(x)));
  if (Number.isFinite(wasm)) {
    bars.push({ figure: "Wasm linear memory per VM, max over the arms (saturation and fixed rates)", protocol: "-", value: wasm / 1048576, unit: "MiB", bar: "<= 10 MiB", met: wasm <= 10 * 1048576 });
  }
  return bars;
}

export function microBars(filter: FilterFigure[], codec: CodecFigure[]): Bar[] {
  const bars: Bar[] = [];
  const FULL = "authz + rate limit + routes";
  for (const p of ["thrift", "dubbo"] as const) {
    for (const perCallback of [1, 16]) {
      const f = filter.find((x) => x.protocol === p && x.config === FULL && x.perCallback === perCallback);
      const base = filter.find((x) => x.protocol === p && x.config.startsWith("pass-through") && x.perCallback === perCallback);
      if (!f || !base) continue;
      const net = f.ns - base.ns;
      bars.push({ figure: `filter CPU per request, Node host (${FULL}; ${perCallback}/callback; minus host baseline)`, protocol: p, value: net / 1000, unit: "us", bar: "<= 2 us", met: net <= 2000 });
      const inWasm = f.ns * f.wasmShare;
      bars.push({ figure: `filter CPU per request in Wasm code, Node host (${FULL}; ${perCallback}/callback; V8 profile share ${(100 * f.wasmShare).toFixed(0)}%)`, protocol: p, value: inWasm / 1000, unit: "us", bar: "<= 2 us", met: inWasm <= 2000 });
    }
  }
  for (const c of codec) {
    if (!c.name.startsWith("Dubbo") && !c.name.startsWith("Thrift")) {
      // A codec docs/performance.md sets no time bar for (Bolt, tRPC): shown, held to no allocation only.
      bars.push({ figure: `decode: ${c.name}`, protocol: "-", value: c.ns, unit: "ns", bar: "no allocation", met: c.allocBytesPerDecode === 0, note: `${c.allocBytesPerDecode} bytes allocated per decode` });
      continue;
    }
    const dubbo = c.name.startsWith("Dubbo");
    const bar = dubbo ? 1000 : 500;
    const allocOk = !dubbo || c.allocBytesPerDecode === 0;
    bars.push({
      figure: `decode: ${c.name}`, protocol: dubbo ? "dubbo" : "thrift", value: c.ns, unit: "ns",
      bar: dubbo ? "<= 1000 ns, no allocation" : "<= 500 ns", met: c.ns <= bar && allocOk,
      note: `${c.allocBytesPerDecode} bytes allocated per decode`,
    });
  }
  return bars;
}

export function soakBars(s: SoakResult): Bar[] {
  const MiB = 1048576;
  return [
    { figure: `Wasm linear memory per VM, max over ${s.requests} requests`, protocol: "-", value: s.wasmMax / MiB, unit: "MiB", bar: "<= 10 MiB", met: s.wasmMax <= 10 * MiB, note: s.errors > 0 ? `${s.errors} error replies` : undefined },
    { figure: "Wasm linear memory flat after warm-up (growth)", protocol: "-", value: (s.wasmMax - s.wasmAfterWarmup) / MiB, unit: "MiB", bar: "<= 64 KiB", met: s.wasmFlat },
    { figure: "Envoy RSS growth after warm-up", protocol: "-", value: (s.rssMax - s.rssAfterWarmup) / MiB, unit: "MiB", bar: `<= 5% (${(s.rssAfterWarmup * 0.05 / MiB).toFixed(1)} MiB)`, met: s.rssFlat },
  ];
}

export function sizeBar(bytes: number): Bar {
  return { figure: "optimized module size (build/meltemi.wasm)", protocol: "-", value: bytes / 1000, unit: "KB", bar: "< 200 KB", met: bytes < 200_000 };
}

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => "| " + r.map((c, i) => c.padEnd(w[i])).join(" | ") + " |";
  return [line(head), "|" + w.map((n) => "-".repeat(n + 2)).join("|") + "|", ...rows.map(line)].join("\n");
}

export function barsTable(bars: Bar[]): string {
  return table(["figure", "protocol", "measured", "bar", "met"], bars.map((b) => [
    b.figure, b.protocol, `${fmt(b.value, b.unit)} ${b.unit === "x" ? "" : b.unit}`.trim(), b.bar,
    (b.met === null ? "n/a" : b.met ? "yes" : "NO") + (b.note ? ` (${b.note})` : ""),
  ]));
}

/** Per arm: medians over rounds of throughput, Envoy CPU per request, and latencies at each rate. */
export function armsTable(run: EnvoyRun, protocols: ProtocolName[], rates: number[]): string {
  const rows: string[][] = [];
  for (const p of protocols) {
    for (const arm of armsRun(run, p)) {
      const c = run.closed.filter((s: ClosedSample) => s.protocol === p && s.arm === arm);
      const name = ARM_NAMES[arm].replace("native proxy", nativeName(p));
      const lat = rates.map((rate) => {
        const o = run.open.filter((s: OpenSample) => s.protocol === p && s.arm === arm && s.rate === rate);
        const us = (f: (s: OpenSample) => number) => (median(o.map(f)) * 1000).toFixed(0);
        // The floor arms run no open loop.
        return o.length === 0 ? "n/a" : `${us((s) => s.p50Ms)} / ${us((s) => s.p99Ms)} / ${us((s) => s.p999Ms)}`;
      });
      const o = run.open.filter((s: OpenSample) => s.protocol === p && s.arm === arm);
      const errors = c.reduce((n, s) => n + s.invalid, 0) + o.reduce((n, s) => n + s.invalid, 0);
      const lost = o.reduce((n, s) => n + s.lost, 0);
      const jit = median(c.map((s) => s.jitShare ?? NaN).filter((x) => !Number.isNaN(x)));
      rows.push([p, `${arm}: ${name}`, median(c.map((s) => s.rps)).toFixed(0), median(c.map((s) => s.envoyCpuUsPerRequest)).toFixed(2),
        (100 * median(c.map((s) => s.envoyCoreUse))).toFixed(0) + "%", Number.isNaN(jit) ? "n/a" : (100 * jit).toFixed(0) + "%", ...lat, `${errors} / ${lost}`]);
    }
  }
  return table(["protocol", "arm", "req/s (closed)", "Envoy CPU us/req", "Envoy core", "Envoy in Wasm (perf)", ...rates.map((r) => `p50/p99/p99.9 us @${r}/s`), "error replies / lost"], rows);
}

export function microTable(filter: FilterFigure[], codec: CodecFigure[]): string {
  const f = table(["protocol", "configuration", "requests/callback", "CPU ns/request", "wall ns/request", "in Wasm code"],
    filter.map((x) => [x.protocol, x.config, String(x.perCallback), x.ns.toFixed(0), x.wallNs.toFixed(0), `${(100 * x.wasmShare).toFixed(0)}%`]));
  // Tracing on (100% sampled) against off (the routes row: off, no trace key is even read).
  const tracing = filter.filter((x) => x.config === TRACING).map((x) => {
    const same = (y: FilterFigure) => y.protocol === x.protocol && y.perCallback === x.perCallback;
    const off = filter.find((y) => same(y) && y.config.startsWith("routes ("));
    const unsampled = filter.find((y) => same(y) && y.config === TRACING_UNSAMPLED);
    const ns = (f: FilterFigure | undefined) => (f ? f.ns.toFixed(0) : "n/a");
    return [x.protocol, String(x.perCallback), ns(off), ns(unsampled), x.ns.toFixed(0), off ? (x.ns - off.ns).toFixed(0) : "n/a"];
  });
  const t = tracing.length === 0 ? "" : "\n\n" + table(
    ["protocol", "requests/callback", "tracing off: CPU ns/request", "on, 0% sampled", "on, 100% sampled", "cost of a traced request ns"], tracing);
  const c = table(["frame", "bytes", "metadata entries", "CPU ns/decode", "wall ns/decode", "bytes allocated/decode"],
    codec.map((x) => [x.name, String(x.frameBytes), String(x.metadataEntries), x.ns.toFixed(0), x.wallNs.toFixed(0), String(x.allocBytesPerDecode)]));
  return f + t + "\n\n" + c;
}

export function soakTable(s: SoakResult): string {
  const MiB = 1048576;
  return table(["requests", "seconds", "Wasm memory MiB", "Envoy RSS MiB"],
    s.samples.map((x) => [String(x.requests), x.seconds.toFixed(1), (x.wasmBytes / MiB).toFixed(3), (x.rssBytes / MiB).toFixed(1)]));
}
