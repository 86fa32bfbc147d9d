// N requests (and their replies) through a given module in the Node host with the configuration of
// an Envoy arm, and nothing else: for instruction counts, which hold on a loaded machine where times
// do not. Per request = (count with N - count with a handful) / the difference in requests:
//   valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=/dev/null \
//     node --import tsx bench/micro/count.ts <module.wasm> <thrift|dubbo> <perRequest|perConnection> <perCallback> <N>
// (the "Collected" line; V8's JIT needs --smc-check). Counts include the host's JavaScript, the same for
// any two modules compared.
import { SharedState, WasmHost } from "../../test/host/index";
import { meltemiConfig } from "../envoy/arms";
import { benchWire, type ProtocolName } from "../load/wire";

const [wasm, p, mode, perCb, n] = process.argv.slice(2);
const perCallback = Number(perCb);
const wire = await benchWire(p as ProtocolName);
const config = meltemiConfig(p as ProtocolName, mode as "perRequest" | "perConnection");
const vm = await WasmHost.load(wasm!, { shared: new SharedState(), pluginConfig: JSON.stringify(config) });
if (!vm.configured) throw new Error("not configured");
const reqs = Buffer.alloc(wire.request.length * perCallback);
const reps = Buffer.alloc(wire.reply.length * perCallback);
let conn = vm.connect();
let id = 1, since = 0;
for (let i = 0; i < Number(n); i += perCallback) {
  if (since >= 4096) { conn.close(); conn = vm.connect(); since = 0; }
  for (let k = 0; k < perCallback; k++, id++) {
    wire.request.copy(reqs, k * wire.request.length);
    wire.writeId(reqs, k * wire.request.length, wire.requestIdOffset, id);
    wire.reply.copy(reps, k * wire.reply.length);
    wire.writeId(reps, k * wire.reply.length, wire.replyIdOffset, id);
  }
  const f = conn.downstream(reqs);
  const w = conn.upstream(reps);
  if (f.forwarded.length === 0 || w.written.length !== reps.length) throw new Error("not passed on");
  since += perCallback;
}
conn.close();
if (vm.failed) throw new Error("VM failed");
console.log("ok", n);
