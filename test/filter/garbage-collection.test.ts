// The module's collector runs only at the end of a host callback, when one is due (filter/abi/gc.ts):
// the "minimal" runtime has no shadow stack, so nothing else frees what connections and configurations
// leave behind. Each source of garbage is run long enough here that, uncollected, it would grow the
// VM's linear memory many times over; memory must stay flat after a warm-up instead.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WasmHost } from "../host/index";
import { dubboAnswer, dubboRequest } from "../codec/dubbo/frames";

const wasm = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");
const MiB = 1024 * 1024;

function config(routes: number): string {
  return JSON.stringify({
    version: 1, name: "greeter", protocol: "dubbo", routingMode: "perRequest",
    routes: [
      ...Array.from({ length: routes }, (_, i) => ({ name: `r${i}`, match: { method: { exact: `m${i}` } }, destinations: [{ cluster: `c${i % 7}` }] })),
      { name: "rest", destinations: [{ cluster: "outbound|20880|v1|greeter" }] },
    ],
  });
}

async function load(routes = 2): Promise<WasmHost> {
  const vm = await WasmHost.load(wasm, { pluginName: "greeter", pluginConfig: config(routes) });
  assert.ok(vm.configured);
  return vm;
}

/** One call and its answer on a connection. */
function call(conn: ReturnType<WasmHost["connect"]>, id: number): void {
  const request = dubboRequest(BigInt(id), id % 2 ? "greet" : "m1", { trace: `t${id}` });
  const before = conn.forwarded.length;
  conn.downstream(request);
  assert.ok(conn.forwarded.length > before, `call ${id} went on`);
  conn.upstream(dubboAnswer(request));
}

test("connections opened and closed: their objects are collected, memory stays flat", async () => {
  const vm = await load();
  let id = 1;
  const churn = (n: number) => {
    for (let i = 0; i < n; i++) {
      const conn = vm.connect();
      call(conn, id++);
      conn.close();
    }
  };
  churn(500);
  const warm = vm.memory.size;
  churn(2000); // uncollected: several KiB each, over 10 MiB
  assert.equal(vm.failed, false);
  assert.equal(vm.memory.size, warm, `memory grew from ${warm / MiB} to ${vm.memory.size / MiB} MiB over 2,000 connections`);
});

test("configurations replaced again and again: the old ones are collected, memory stays flat", async () => {
  const vm = await load(1000);
  const reconfigure = (n: number) => {
    for (let i = 0; i < n; i++) assert.equal(vm.configure(config(1000 + (i % 3))), true);
  };
  reconfigure(5);
  const warm = vm.memory.size;
  reconfigure(15); // uncollected: each 1,000-route configuration and its parse's garbage
  assert.equal(vm.failed, false);
  assert.equal(vm.memory.size, warm, `memory grew from ${warm / MiB} to ${vm.memory.size / MiB} MiB over 15 configurations`);
  const conn = vm.connect();
  call(conn, 1); // the VM still serves with the last one
});

test("many requests on long-lived connections: memory stays flat", async () => {
  const vm = await load();
  const conns = Array.from({ length: 32 }, () => vm.connect());
  let id = 1;
  const run = (n: number) => { for (let i = 0; i < n; i++) call(conns[i % conns.length]!, id++); };
  run(2000);
  const warm = vm.memory.size;
  run(8000);
  assert.equal(vm.failed, false);
  assert.equal(vm.memory.size, warm, `memory grew from ${warm / MiB} to ${vm.memory.size / MiB} MiB over 8,000 requests`);
});

test("every request path (routed, rate limited, denied, traced) in both modes: memory stays flat", async () => {
  const COLLECTOR = "outbound|9411||zipkin";
  const base = JSON.parse(config(2)) as Record<string, unknown>;
  const variants: Record<string, object> = {
    "routes, perRequest": base,
    "routes, perConnection": { ...base, routingMode: "perConnection" },
    "every request over the limit": { ...base, localRateLimit: { conditions: [{ tokenBucket: { maxTokens: 1, tokensPerFill: 1, fillIntervalMs: 100000 } }] } },
    "every request denied": { ...base, authorization: [{ name: "deny-all", action: "DENY", rules: [{}] }] },
    "every request traced": { ...base, randomSeed: 1, tracing: { collectorCluster: COLLECTOR, samplingPercentage: 100, maxBufferedSpans: 512 } },
  };
  for (const [name, c] of Object.entries(variants)) {
    const vm = await WasmHost.load(wasm, { pluginName: "greeter", pluginConfig: JSON.stringify(c), clusters: [COLLECTOR] });
    assert.ok(vm.configured, name);
    let conn = vm.connect();
    let id = 1;
    const run = (n: number) => {
      for (let i = 0; i < n; i++, id++) {
        // No tick in between (time stands still): what collects is what the requests owe (abi/gc.ts).
        if (i % 500 === 0) {
          conn.close();
          conn = vm.connect();
        }
        const request = dubboRequest(BigInt(id), "greet", { trace: `t${id}` });
        conn.downstream(request);
        conn.upstream(dubboAnswer(request));
      }
    };
    run(3000);
    const warm = vm.memory.size;
    run(12_000); // uncollected: ~200 bytes per rejection, ~800 per span
    assert.equal(vm.failed, false, name);
    assert.equal(vm.memory.size, warm, `${name}: memory grew from ${warm / MiB} to ${vm.memory.size / MiB} MiB over 12,000 requests`);
  }
});
