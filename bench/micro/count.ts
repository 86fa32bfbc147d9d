// N requests (and their replies) through a given module in the Node host with the configuration of
// an Envoy arm, and nothing else: for instruction counts, which hold on a loaded machine where times
// do not. Per request = (count with N - count with a handful) / the difference in requests:
//   valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=/dev/null \
//     node --import tsx bench/micro/count.ts <module.wasm> <thrift|dubbo> <perRequest|perConnection> <perCallback> <N>
// (the "Collected" line; V8's JIT needs --smc-check). Counts include the host's JavaScript, the same for
// any two modules compared.
import { SharedState, WasmHost } from "../../test/host/index";
import { meltemiConfig } from "../envoy/arms";
import { WireBatch, benchWire, type ProtocolName } from "../load/wire";

const [wasm, p, mode, perCb, n] = process.argv.slice(2);
const perCallback = Number(perCb);
const wire = await benchWire(p as ProtocolName);
const config = meltemiConfig(p as ProtocolName, mode as "perRequest" | "perConnection");
const vm = await WasmHost.load(wasm!, { shared: new SharedState(), pluginConfig: JSON.stringify(config) });
if (!vm.configured) throw new Error("not configured");
const batch = new WireBatch(wire, perCallback);
let conn = vm.connect();
let since = 0;
for (let i = 0; i < Number(n); i += perCallback) {
  if (since >= 4096) { conn.close(); conn = vm.connect(); since = 0; }
  batch.next();
  const f = conn.downstream(batch.requests);
  const w = conn.upstream(batch.replies);
  if (f.forwarded.length === 0 || w.written.length !== batch.replies.length) throw new Error("not passed on");
  since += perCallback;
}
conn.close();
if (vm.failed) throw new Error("VM failed");
console.log("ok", n);
