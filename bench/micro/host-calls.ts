// Host calls per request (request + its answer) of a module in the Node host, by import name, with the
// configuration of an Envoy arm: what each request pair costs in calls into Envoy, which holds on a
// loaded machine where times do not. One request per callback (every callback's calls fall on one
// request) and 16 per callback (the per-callback calls shared):
//   node --import tsx bench/micro/host-calls.ts [module.wasm] [thrift|dubbo] [perConnection|perRequest]
// (defaults: build/meltemi.wasm, both protocols, both modes). Counted after a warm-up connection, over
// 4096 requests on a fresh connection (its set-up and its close included).
import path from "node:path";
import { SharedState, WasmHost } from "../../test/host/index";
import { repoRoot } from "../../test/envoy/envoy";
import { meltemiConfig } from "../envoy/arms";
import { WireBatch, benchWire, type ProtocolName } from "../load/wire";

const REQUESTS = 4096;

export async function hostCallsPerRequest(wasm: string, p: ProtocolName, mode: "perConnection" | "perRequest", perCallback: number): Promise<Map<string, number>> {
  const wire = await benchWire(p);
  const vm = await WasmHost.load(wasm, { shared: new SharedState(), pluginConfig: JSON.stringify(meltemiConfig(p, mode)), countHostCalls: true });
  if (!vm.configured) throw new Error(`${p} ${mode}: configuration not accepted`);
  const batch = new WireBatch(wire, perCallback);
  const run = (n: number) => {
    const conn = vm.connect();
    for (let i = 0; i < n; i += perCallback) {
      batch.next();
      const f = conn.downstream(batch.requests);
      const w = conn.upstream(batch.replies);
      if (f.forwarded.length === 0 || w.written.length !== batch.replies.length) throw new Error(`${p} ${mode}: request or reply not passed on`);
    }
    conn.close();
  };
  run(256); // label sets and metrics defined, buffers grown
  vm.hostCalls.clear();
  run(REQUESTS);
  if (vm.failed) throw new Error(`${p} ${mode}: the VM failed`);
  return new Map([...vm.hostCalls].map(([k, v]) => [k, v / REQUESTS]));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [wasmArg, pArg, modeArg] = process.argv.slice(2);
  const wasm = path.resolve(wasmArg ?? path.join(repoRoot, "build/meltemi.wasm"));
  for (const p of (pArg ? [pArg] : ["thrift", "dubbo"]) as ProtocolName[]) {
    for (const mode of (modeArg ? [modeArg] : ["perConnection", "perRequest"]) as ("perConnection" | "perRequest")[]) {
      for (const k of [1, 16]) {
        const calls = await hostCallsPerRequest(wasm, p, mode, k);
        const total = [...calls.values()].reduce((a, b) => a + b, 0);
        const by = [...calls].filter(([, v]) => v >= 0.005).sort((a, b) => b[1] - a[1]).map(([n, v]) => `${n.replace(/^proxy_/, "")} ${v.toFixed(2)}`).join(", ");
        console.log(`${p} ${mode}, ${k} per callback: ${total.toFixed(2)} host calls per request (${by})`);
      }
    }
  }
}
