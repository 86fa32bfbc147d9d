// Filter CPU per request in the Node proxy-wasm host (test/host): the built module (build/meltemi.wasm)
// with a perRequest configuration decodes each request, decides (authorization, rate limit, route),
// writes the routing key, counts it, and decodes the reply on its way back. Measured per request,
// one request per callback (the worst case: every request pays the callbacks' host calls) and 16
// pipelined per callback; minus the same bytes through the pass-through configuration (no protocol),
// which is what the Node host itself costs per callback (buffer copies in JS). The host's JS imports
// are slower than Envoy's C++ ones, so the gross figure is an upper bound of the module's work; a V8
// profile of the same loop gives the share of the time spent in Wasm code, i.e. the module's own work
// (decode, decide, encode) without the host calls. The in-Envoy figure is the Envoy CPU per request of
// arm 2 minus arm 1 (report.ts). The tracing row is the routes with tracing on at 100% sampling
// (every request a span; Dubbo requests re-encoded with a traceparent; spans exported as Zipkin JSON
// once per virtual second and answered 202 by the host): its difference to the routes row is the cost
// of tracing per request, off being the routes row itself (no trace keys are read when off). The 0%
// row is tracing on with nothing sampled: the metadata scan every request pays.
import path from "node:path";
import { SharedState, WasmHost } from "../../test/host/index";
import { repoRoot } from "../../test/envoy/envoy";
import { meltemiConfig } from "../envoy/arms";
import { WireBatch, benchWire, type ProtocolName } from "../load/wire";
import { profile } from "./profiler";
import { nsPerOp } from "./timing";

export interface FilterFigure {
  protocol: ProtocolName;
  config: string;
  perCallback: number;
  /** CPU ns per request (request + its reply), median of the batches. */
  ns: number;
  wallNs: number;
  /** Share of CPU samples in Wasm code (V8 profiler) over a separate profiled batch: the module's own work. */
  wasmShare: number;
}

export const TRACING = "routes + tracing (100% sampled, exported)";
/** Tracing on, nothing sampled: what every request pays for the metadata scan (the caller's context). */
export const TRACING_UNSAMPLED = "routes + tracing (0% sampled)";
const COLLECTOR = "zipkin";

/**
 * With tracing on: a virtual second passes every 4096 requests, and the exports it makes are answered
 * (each answer sends the next full batch of the default 256 spans; bounded by the calls made).
 */
function exportSpans(vm: WasmHost): void {
  vm.advance(1000);
  for (let i = 0; i < vm.httpCalls.length; i++) {
    const c = vm.httpCalls[i]!;
    if (!c.answered) vm.respondHttpCall(c.token, { status: 202 });
  }
}

function configs(p: ProtocolName): Record<string, object> {
  const routes = meltemiConfig(p, "perRequest") as Record<string, unknown>;
  return {
    "pass-through (host baseline)": { version: 1 },
    "routes (as in Envoy arm 4)": routes,
    // Every per-request stage: an authorization rule that is evaluated and allows, a token bucket that
    // never runs dry (shared data CAS per request), and the routes.
    "authz + rate limit + routes": {
      ...routes,
      localRateLimit: { conditions: [{ match: { method: { exact: "hello" } }, tokenBucket: { maxTokens: 1000000000, tokensPerFill: 1000000000, fillIntervalMs: 1000 } }] },
      authorization: [{ name: "no-boom", action: "DENY", rules: [{ to: [{ methods: ["boom"] }] }] }],
    },
    [TRACING_UNSAMPLED]: { ...routes, tracing: { collectorCluster: COLLECTOR, samplingPercentage: 0 } },
    [TRACING]: { ...routes, randomSeed: 1, tracing: { collectorCluster: COLLECTOR, samplingPercentage: 100, maxBufferedSpans: 8192 } },
  };
}

export async function filterBenchmarks(opts: { requests: number; batches: number }): Promise<FilterFigure[]> {
  const wasm = path.join(repoRoot, "build/meltemi.wasm");
  const out: FilterFigure[] = [];
  for (const p of ["thrift", "dubbo"] as const) {
    const wire = await benchWire(p);
    for (const [name, config] of Object.entries(configs(p))) {
      const vm = await WasmHost.load(wasm, { shared: new SharedState(), pluginConfig: JSON.stringify(config), clusters: [COLLECTOR] });
      if (!vm.configured) throw new Error(`${p} ${name}: configuration not accepted: ${vm.logs.map((l) => l.message).join("; ")}`);
      for (const perCallback of [1, 16]) {
        const batch = new WireBatch(wire, perCallback);
        let conn = vm.connect();
        let sinceConnect = 0;
        const body = (n: number) => {
          for (let i = 0; i < n; i += perCallback) {
            // The host keeps every forwarded chunk of a connection: start a new one now and then.
            if (sinceConnect >= 4096) {
              conn.close();
              if (name === TRACING) exportSpans(vm);
              conn = vm.connect();
              sinceConnect = 0;
            }
            batch.next();
            const f = conn.downstream(batch.requests);
            const w = conn.upstream(batch.replies);
            if (f.forwarded.length === 0 || w.written.length !== batch.replies.length) throw new Error(`${p} ${name}: request or reply not passed on`);
            sinceConnect += perCallback;
          }
        };
        const t = nsPerOp(body, opts.requests, opts.batches);
        const share = (await profile(() => body(opts.requests))).wasmShare;
        conn.close();
        out.push({ protocol: p, config: name, perCallback, ns: t.ns, wallNs: t.wallNs, wasmShare: share });
      }
      if (vm.failed) throw new Error(`${p} ${name}: the VM failed: ${vm.failure?.message}`);
      if (name === TRACING) {
        exportSpans(vm);
        const m = vm.metrics();
        if (!((m["meltemi_trace_spans_reported_total"] as number) > 0) || m["reason=.=buffer_full;.;meltemi_trace_spans_dropped_total"]) {
          throw new Error(`${p} ${name}: spans not exported as measured: ${JSON.stringify(m)}`);
        }
      }
    }
  }
  return out;
}
