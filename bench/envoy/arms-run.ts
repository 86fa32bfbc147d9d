// The Envoy part of the benchmark: one Envoy (the pinned official binary) with the arms of both
// protocols as listeners (the four of docs/performance.md and the diagnostic arms 5-9 of arms.ts), the
// lean upstreams, the span collector, and the load generator; arms interleaved in every round
// (1 2 3 4 5 [6] 7 8 9 1 2 ...), closed loop (saturation) then open loop (each fixed rate; not the
// floor arms).
import http from "node:http";
import { Envoy } from "../../test/envoy/envoy";
import { RING, closedLoop, openLoop, quantile } from "../load/client";
import { startUpstream, type Upstream } from "../load/upstream";
import { benchWire, type BenchWire, type ProtocolName } from "../load/wire";
import { type Arm, FLOOR_ARMS, ROUTED_LOAD_ARMS, armsOf, benchBootstrap, clusters, listenerName } from "./arms";
import { PerfRecording } from "./perf";
import { cpuSeconds, pin } from "./proc";

export interface EnvoyRunOptions {
  protocols: ProtocolName[];
  rounds: number;
  workers: number;
  connections: number;
  depth: number;
  warmupMs: number;
  closedMs: number;
  openMs: number;
  rates: number[];
  /** Record Envoy with perf during the closed loops (the Wasm module's share of Envoy's CPU). */
  perf: boolean;
  log: (s: string) => void;
  /** Called between measurements (e.g. to sample the load average). */
  onPhase?: () => void;
}

export interface ClosedSample {
  round: number; protocol: ProtocolName; arm: Arm; rps: number; envoyCpuUsPerRequest: number; envoyCoreUse: number; generatorCpu: number; invalid: number; wasmBytes: number;
  /** Share of Envoy's perf samples in V8's JIT code (the Wasm module), NaN without perf (envoy/perf.ts). */
  jitShare: number;
}
export interface OpenSample {
  round: number; protocol: ProtocolName; arm: Arm; rate: number;
  p50Ms: number; p99Ms: number; p999Ms: number; meanMs: number; count: number; lost: number; invalid: number; sendLagP99Ms: number; envoyCpuUsPerRequest: number;
}

export interface EnvoyRun {
  closed: ClosedSample[];
  open: OpenSample[];
  pinned: boolean;
  upstreamErrors: string[];
  /** Bytes of spans arm 5 exported to the collector (more than 0: its tracing ran). */
  collectorBytes: number;
  /** Answers arm 10's floor module counted in Envoy's stats (more than 0: its telemetry calls ran). */
  floorTelemetryAnswers: number;
}

/**
 * Arm 5's span collector: answers every POST 202 once its body is read, as Zipkin does; counts the
 * bytes. A stand-in: a real collector's own cost is not the proxy's.
 */
async function startCollector(): Promise<{ port: number; bytes: () => number; close: () => Promise<void> }> {
  let bytes = 0;
  const server = http.createServer((req, res) => {
    req.on("data", (d: Buffer) => { bytes += d.length; });
    req.on("end", () => { res.writeHead(202).end(); });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    bytes: () => bytes,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** Starts the upstreams, the span collector and Envoy, runs `body`, and always tears them down. */
export async function withBenchEnvoy<T>(
  protocols: ProtocolName[], workers: number, doPin: boolean,
  body: (ctx: BenchEnvoy) => Promise<T>,
): Promise<T> {
  const wires = {} as Record<ProtocolName, BenchWire>;
  const routedWires = {} as Record<ProtocolName, BenchWire>;
  const upstreams = {} as Record<ProtocolName, Upstream>;
  const collector = await startCollector();
  try {
    for (const p of ["thrift", "dubbo"] as const) {
      wires[p] = await benchWire(p);
      routedWires[p] = await benchWire(p, clusters(p).v1);
      upstreams[p] = await startUpstream(wires[p]);
    }
    const envoy = await Envoy.start({ bootstrap: benchBootstrap({ thrift: upstreams.thrift.port, dubbo: upstreams.dubbo.port }, { protocols, collectorPort: collector.port }), concurrency: workers });
    try {
      const pinned = doPin && pin(envoy.process.pid!, "0") && pin(process.pid, "1");
      return await body({ envoy, wires, routedWires, upstreams, pinned, collectorBytes: collector.bytes });
    } catch (e) {
      console.error(`---- envoy log (${envoy.dir}) ----\n${envoy.log().slice(-4000)}\n---- end of envoy log ----`);
      throw e;
    } finally {
      await envoy.stop();
      envoy.cleanup();
    }
  } finally {
    for (const u of Object.values(upstreams)) await u.close();
    await collector.close();
  }
}

/** The gauge meltemi_vm_memory_bytes (the filter reports it when a VM grows). */
export async function wasmBytes(envoy: Envoy): Promise<number> {
  return (await envoy.stat("wasmcustom.meltemi_vm_memory_bytes")) ?? NaN;
}

export interface BenchEnvoy {
  envoy: Envoy;
  wires: Record<ProtocolName, BenchWire>;
  /** The same requests carrying Meltemi's routing key to arm 3's v1 (for ROUTED_LOAD_ARMS). */
  routedWires: Record<ProtocolName, BenchWire>;
  upstreams: Record<ProtocolName, Upstream>;
  pinned: boolean;
  collectorBytes: () => number;
}

/** The load of an arm: its requests carry Meltemi's routing key already in ROUTED_LOAD_ARMS. */
export function armWire(ctx: BenchEnvoy, p: ProtocolName, arm: Arm): BenchWire {
  return ROUTED_LOAD_ARMS.includes(arm) ? ctx.routedWires[p] : ctx.wires[p];
}

/** Runs the rounds of the arms in the Envoy of withBenchEnvoy. */
export async function runArms(ctx: BenchEnvoy, o: EnvoyRunOptions): Promise<EnvoyRun> {
  const { envoy, upstreams, pinned } = ctx;
  const wireOf = (p: ProtocolName, arm: Arm) => armWire(ctx, p, arm);
  {
    const pid = envoy.process.pid!;
    const ports = new Map<string, number>();
    for (const p of o.protocols) for (const arm of armsOf(p)) ports.set(listenerName(p, arm), await envoy.listenerPort(listenerName(p, arm)));
    const closed: ClosedSample[] = [];
    const open: OpenSample[] = [];
    for (let round = 1; round <= o.rounds; round++) {
      for (const p of o.protocols) {
        for (const arm of armsOf(p)) {
          o.onPhase?.();
          let c0 = 0;
          let c1 = 0;
          let rec: PerfRecording | undefined;
          const r = await closedLoop({
            wire: wireOf(p, arm), port: ports.get(listenerName(p, arm))!, connections: o.connections, depth: o.depth,
            warmupMs: o.warmupMs, durationMs: o.closedMs,
            onWindow: (e) => {
              if (e === "start") { c0 = cpuSeconds(pid); if (o.perf) rec = new PerfRecording(pid); } else c1 = cpuSeconds(pid);
            },
          });
          const shares = rec ? await rec.stop() : new Map<string, number>();
          if (r.invalid > 0) o.log(`${p} arm ${arm}: ${r.invalid} invalid replies (counted as errors), first: ${r.firstInvalid}`);
          const s: ClosedSample = {
            round, protocol: p, arm, rps: r.rps, envoyCpuUsPerRequest: ((c1 - c0) * 1e6) / r.replies,
            envoyCoreUse: (c1 - c0) / r.seconds / o.workers, generatorCpu: r.generatorCpu, invalid: r.invalid, wasmBytes: await wasmBytes(envoy),
            jitShare: shares.size > 0 ? shares.get("[JIT]") ?? 0 : NaN,
          };
          closed.push(s);
          o.log(`round ${round} ${p} arm ${arm} closed: ${Math.round(s.rps)} req/s, Envoy ${s.envoyCpuUsPerRequest.toFixed(2)} us CPU/req, Envoy core ${(100 * s.envoyCoreUse).toFixed(0)}%, generator ${(100 * s.generatorCpu).toFixed(0)}%, JIT (Wasm) ${(100 * s.jitShare).toFixed(0)}% of Envoy's samples, Wasm memory ${(s.wasmBytes / 1048576).toFixed(2)} MiB`);
        }
        for (const rate of o.rates) {
          for (const arm of armsOf(p).filter((a) => !FLOOR_ARMS.includes(a))) {
            o.onPhase?.();
            let c0 = 0;
            let c1 = 0;
            const r = await openLoop({
              wire: wireOf(p, arm), port: ports.get(listenerName(p, arm))!, connections: o.connections, rate,
              warmupMs: o.warmupMs, durationMs: o.openMs,
              onWindow: (e) => { if (e === "start") c0 = cpuSeconds(pid); else c1 = cpuSeconds(pid); },
            });
            if (r.unsent > 0) o.log(`${p} arm ${arm} at ${rate}/s: ${r.unsent} requests not sent (${RING} in flight on a connection: the proxy is far behind this rate), counted as lost`);
            if (r.invalid > 0) o.log(`${p} arm ${arm} at ${rate}/s: ${r.invalid} invalid replies (counted as errors), first: ${r.firstInvalid}`);
            const l = r.latenciesMs;
            const s: OpenSample = {
              round, protocol: p, arm, rate,
              p50Ms: quantile(l, 0.5), p99Ms: quantile(l, 0.99), p999Ms: quantile(l, 0.999),
              meanMs: l.reduce((a, b) => a + b, 0) / l.length, count: l.length, lost: r.lost, invalid: r.invalid,
              sendLagP99Ms: r.sendLagP99Ms, envoyCpuUsPerRequest: ((c1 - c0) * 1e6) / (rate * o.openMs / 1000), wasmBytes: await wasmBytes(envoy),
            };
            open.push(s);
            o.log(`round ${round} ${p} arm ${arm} open ${rate}/s: p50 ${(s.p50Ms * 1000).toFixed(0)} us, p99 ${(s.p99Ms * 1000).toFixed(0)} us, p99.9 ${(s.p999Ms * 1000).toFixed(0)} us, lost ${s.lost}, generator lag p99 ${(s.sendLagP99Ms * 1000).toFixed(0)} us, Wasm memory ${(s.wasmBytes / 1048576).toFixed(2)} MiB`);
          }
        }
      }
    }
    // Arm 5's last spans leave on the next tick (about a second).
    const deadline = Date.now() + 3000;
    while (ctx.collectorBytes() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    return { closed, open, pinned, upstreamErrors: [...upstreams.thrift.errors, ...upstreams.dubbo.errors], collectorBytes: ctx.collectorBytes(), floorTelemetryAnswers: await envoy.wasmStatTotal("floor_requests_total") };
  }
}
