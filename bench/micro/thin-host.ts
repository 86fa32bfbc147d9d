// The module's own CPU per request (request + its answer), with as little host as possible: the Node
// host (test/host) loads, configures and connects as usual and passes the connection's first request
// (it picks the cluster), then the data callbacks are called straight from a loop and the hot host calls
// are answered by a few lines of JS (get_buffer_bytes: malloc in the module and copy; the clock; the
// metrics: nothing). Any other host call in the loop is an error. So the time is the module's work plus
// the boundary crossings, which Envoy pays too: in the full host (filter.ts) the host's JavaScript
// is about 80% of the time, here under half (a V8 profile: PROFILE=1). For comparing two builds of
// the module minutes apart (interleave the runs; the machine's load moves the figures by 10% and more):
//   node --import tsx bench/micro/thin-host.ts <module.wasm> <thrift|dubbo> [perConnection|perRequest] [perCallback]
// perRequest: Envoy's set_buffer_bytes of a rewritten read is answered Ok and the bytes dropped.
import { SharedState, WasmHost } from "../../test/host/index";
import { meltemiConfig } from "../envoy/arms";
import { WireBatch, benchWire, type ProtocolName } from "../load/wire";
import { profile, selfTimeText } from "./profiler";
import { nsPerOp } from "./timing";

type Call = (...args: unknown[]) => unknown;

export async function thinHost(wasm: string, p: ProtocolName, mode: "perConnection" | "perRequest", perCallback: number) {
  let thin = false;
  let current = Buffer.alloc(0);
  let memory: WebAssembly.Memory | undefined;
  let malloc: ((n: number) => number) | undefined;
  let view: DataView | undefined;
  const dv = () => (view !== undefined && view.buffer === memory!.buffer ? view : (view = new DataView(memory!.buffer)));
  let clock = 1_700_000_000_000_000_000n;
  const fast: Record<string, Call> = {
    proxy_get_buffer_bytes: (_type, start, length, ptrPtr, sizePtr) => {
      const from = start as number;
      const n = Math.min(length as number, current.length - from);
      const ptr = malloc!(n) >>> 0;
      new Uint8Array(memory!.buffer, ptr, n).set(current.subarray(from, from + n));
      dv().setUint32(ptrPtr as number, ptr, true);
      dv().setUint32(sizePtr as number, n, true);
      return 0;
    },
    proxy_set_buffer_bytes: () => 0,
    proxy_get_current_time_nanoseconds: (ptr) => { clock += 1000n; dv().setBigUint64(ptr as number, clock, true); return 0; },
    proxy_increment_metric: () => 0,
    proxy_record_metric: () => 0,
  };
  const vm = await WasmHost.load(wasm, {
    shared: new SharedState(),
    pluginConfig: JSON.stringify(meltemiConfig(p, mode)),
    wrapImport: (name, call) => {
      const f = fast[name];
      return (...args) => {
        if (!thin) return call(...args);
        if (f === undefined) throw new Error(`host call ${name} in the loop: the thin host does not answer it`);
        return f(...args);
      };
    },
  });
  if (!vm.configured) throw new Error(`${p} ${mode}: configuration not accepted`);
  const exports = vm.exports as unknown as {
    memory: WebAssembly.Memory; malloc: (n: number) => number;
    proxy_on_downstream_data(id: number, len: number, end: number): number; proxy_on_upstream_data(id: number, len: number, end: number): number;
  };
  memory = exports.memory;
  malloc = exports.malloc;
  const wire = await benchWire(p);
  const batch = new WireBatch(wire, perCallback);
  const reqs = batch.requests;
  const reps = batch.replies;
  const conn = vm.connect();
  batch.next();
  conn.downstream(reqs);
  conn.upstream(reps);
  const body = (n: number) => {
    thin = true;
    try {
      for (let i = 0; i < n; i += perCallback) {
        batch.next();
        current = reqs;
        if (exports.proxy_on_downstream_data(conn.id, reqs.length, 0) !== 0) throw new Error("the request read did not continue");
        current = reps;
        if (exports.proxy_on_upstream_data(conn.id, reps.length, 0) !== 0) throw new Error("the answer read did not continue");
      }
    } finally {
      thin = false;
    }
  };
  return { vm, body };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [wasm, p, mode = "perConnection", perCb = "1"] = process.argv.slice(2);
  if (!wasm || (p !== "thrift" && p !== "dubbo")) throw new Error("usage: thin-host.ts <module.wasm> <thrift|dubbo> [perConnection|perRequest] [perCallback]");
  const { vm, body } = await thinHost(wasm, p, mode as "perConnection" | "perRequest", Number(perCb));
  if (process.env.PROFILE) {
    console.log(selfTimeText(await profile(() => body(400_000)), 40));
  } else {
    const t = nsPerOp(body, 200_000, 15);
    console.log(`${wasm} ${p} ${mode}, ${perCb} per callback: ${t.ns.toFixed(0)} ns CPU per request (median of 15; min ${t.min.toFixed(0)}, max ${t.max.toFixed(0)})`);
  }
  if (vm.failed) throw new Error("the VM failed");
}
