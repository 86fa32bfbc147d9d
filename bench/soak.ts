// The soak: N requests (1M by default) through the Meltemi arms of the benchmark's Envoy (2: Meltemi +
// tcp_proxy, 4: Meltemi + native proxy; both protocols, in turn), in segments on fresh connections (so
// connection set-up and tear-down are soaked too), sampling after each segment the Wasm linear memory
// (gauge meltemi_vm_memory_bytes: the largest of the proxy's Meltemi VMs) and Envoy's RSS.
// Flat: after the warm-up (the first 10% of the requests, at least one segment per lane), Wasm memory grows by at most one page
// (64 KiB) and RSS by at most 5%.
import { closedLoop } from "./load/client";
import { type ProtocolName } from "./load/wire";
import { type Arm, listenerName } from "./envoy/arms";
import { type BenchEnvoy, wasmBytes } from "./envoy/arms-run";
import { rssBytes } from "./envoy/proc";

export const WASM_TOLERANCE_BYTES = 64 * 1024;
export const RSS_TOLERANCE = 0.05;

export interface SoakSample { requests: number; wasmBytes: number; rssBytes: number; seconds: number }
export interface SoakResult {
  requests: number;
  /** Replies that were not the valid answer (error replies from a proxy). */
  errors: number;
  samples: SoakSample[];
  warmupRequests: number;
  wasmAfterWarmup: number;
  wasmMax: number;
  rssAfterWarmup: number;
  rssMax: number;
  wasmFlat: boolean;
  rssFlat: boolean;
  seconds: number;
}

/** Runs the soak in the Envoy of withBenchEnvoy. */
export async function soak(ctx: BenchEnvoy, o: { requests: number; protocols: ProtocolName[]; connections: number; depth: number; log: (s: string) => void }): Promise<SoakResult> {
  const { envoy, wires, upstreams } = ctx;
  {
    const pid = envoy.process.pid!;
    const lanes: [ProtocolName, Arm][] = o.protocols.flatMap((p) => [[p, 2], [p, 4]] as [ProtocolName, Arm][]);
    const ports = new Map<string, number>();
    for (const [p, arm] of lanes) ports.set(listenerName(p, arm), await envoy.listenerPort(listenerName(p, arm)));
    const answered0 = o.protocols.reduce((s, p) => s + upstreams[p].answered, 0);
    const answered = () => o.protocols.reduce((s, p) => s + upstreams[p].answered, 0) - answered0;
    const wasm = () => wasmBytes(envoy);
    const segments = 40;
    const perSegment = Math.ceil(o.requests / segments);
    const t0 = Date.now();
    const samples: SoakSample[] = [];
    const sample = async () => {
      const s = { requests: answered(), wasmBytes: await wasm(), rssBytes: rssBytes(pid), seconds: (Date.now() - t0) / 1000 };
      samples.push(s);
      o.log(`soak: ${s.requests} requests, Wasm memory ${(s.wasmBytes / 1048576).toFixed(2)} MiB, Envoy RSS ${(s.rssBytes / 1048576).toFixed(1)} MiB`);
    };
    await sample();
    let errors = 0;
    for (let i = 0; answered() < o.requests; i++) {
      const [p, arm] = lanes[i % lanes.length];
      const r = await closedLoop({
        wire: wires[p], port: ports.get(listenerName(p, arm))!, connections: o.connections, depth: o.depth,
        warmupMs: 0, durationMs: 600_000, maxReplies: Math.min(perSegment, o.requests - answered()),
      });
      if (r.invalid > 0) o.log(`soak ${p} arm ${arm}: ${r.invalid} invalid replies (counted as errors), first: ${r.firstInvalid}`);
      errors += r.invalid;
      await sample();
    }
    const requests = answered();
    // Warm-up: the first 10% of the requests, and at least one segment on every lane (the first
    // connection of a protocol and mode allocates what later ones reuse).
    const warmupRequests = Math.max(Math.ceil(requests / 10), samples[Math.min(lanes.length, samples.length - 1)].requests);
    const atWarmup = samples.find((s) => s.requests >= warmupRequests)!;
    const after = samples.filter((s) => s.requests >= atWarmup.requests);
    const wasmMax = Math.max(...after.map((s) => s.wasmBytes));
    const rssMax = Math.max(...after.map((s) => s.rssBytes));
    return {
      requests, errors, samples, warmupRequests,
      wasmAfterWarmup: atWarmup.wasmBytes, wasmMax, rssAfterWarmup: atWarmup.rssBytes, rssMax,
      wasmFlat: wasmMax - atWarmup.wasmBytes <= WASM_TOLERANCE_BYTES,
      rssFlat: rssMax <= atWarmup.rssBytes * (1 + RSS_TOLERANCE),
      seconds: (Date.now() - t0) / 1000,
    };
  }
}
