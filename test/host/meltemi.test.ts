// The real filter (build/meltemi.wasm, built by scripts/build.sh) in the Node host: configuration,
// rejected configurations, and bytes and metrics through two workers that share one proxy's state.
// The same behaviour is checked in a real Envoy by test/envoy/passthrough.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { LogLevel, SharedState, WasmHost, type Connection } from "./index";
import { prng } from "../support/prng";
import { prometheusView, sumOf } from "../support/stats_tags";

const WASM = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");
const MiB = 1 << 20;

async function load(options: Parameters<typeof WasmHost.load>[1]): Promise<WasmHost> {
  assert.ok(existsSync(WASM), `${WASM} is missing: run scripts/build.sh first`);
  return WasmHost.load(WASM, options);
}


function randomBytes(rand: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (rand() * 256) | 0;
  return b;
}

function* chunks(data: Buffer, rand: () => number): Generator<Buffer> {
  for (let at = 0; at < data.length;) {
    const size = 1 + Math.floor(rand() * 64 * 1024);
    yield data.subarray(at, at + size);
    at += size;
  }
}

test("a valid configuration is accepted and logged", async () => {
  const vm = await load({ pluginName: "ns.meltemi" });
  assert.equal(vm.configure(JSON.stringify({ version: 1 })), true);
  assert.deepEqual(vm.logs.map((l) => [l.level, l.message]), [[LogLevel.Info, "meltemi[ns.meltemi]: configuration accepted"]]);
  assert.equal(vm.metrics().meltemi_config_accepted_total, 1);
  assert.deepEqual(vm.unknownImports, [], "the module uses only imports Envoy provides");
});

for (const [label, config, reason] of [
  ["not JSON", "this is { not json", /configuration rejected: invalid JSON: unexpected character 't' at offset 0/],
  ["an unknown schema version", JSON.stringify({ version: 2 }), /configuration rejected: unknown schema version 2 \(this filter knows version 1\)/],
] as const) {
  test(`a configuration that is ${label} is logged with the reason, and traffic passes unchanged`, async () => {
    const vm = await load({});
    assert.equal(vm.configure(config), true, "the filter accepts the plugin and runs its default");
    const errors = vm.logs.filter((l) => l.level === LogLevel.Error).map((l) => l.message).join("\n");
    assert.match(errors, reason);
    assert.match(errors, /no previous configuration, running the default \(pass-through\)/);
    assert.equal(vm.metrics().meltemi_config_rejected_total, 1);

    const conn = vm.connect();
    const request = Buffer.from("\xda\xbb\xc2\x00 not a real frame", "latin1");
    assert.ok(conn.downstream(request).forwarded.equals(request));
    assert.ok(conn.upstream("reply").written.equals(Buffer.from("reply")));
  });
}

test("a worker that gets a rejected configuration keeps the last good one from shared data", async () => {
  const shared = new SharedState();
  const canary = await load({ shared, pluginName: "p", pluginConfig: JSON.stringify({ version: 1, name: "good" }) });
  assert.equal(canary.configureResults[0], true);
  const worker = await load({ shared, pluginName: "p", pluginConfig: "{" });
  assert.match(worker.logs.map((l) => l.message).join("\n"), /meltemi\[good\]: configuration rejected: .*; keeping the previous configuration/);
});

test("1 MiB per connection in random chunks passes unchanged both ways; two workers share the metrics", async () => {
  const shared = new SharedState();
  const config = JSON.stringify({ version: 1, name: "bulk" });
  const workers = [await load({ shared, name: "worker-0", pluginConfig: config }), await load({ shared, name: "worker-1", pluginConfig: config })];
  const seed = 20240601;
  const rand = prng(seed);
  const conns: Array<{ conn: Connection; up: Buffer; down: Buffer }> = [];
  for (let i = 0; i < 3; i++) {
    conns.push({ conn: workers[i % 2].connect(), up: randomBytes(rand, MiB), down: randomBytes(rand, MiB) });
  }
  for (const { conn, up, down } of conns) {
    const toUpstream = chunks(up, rand);
    const toClient = chunks(down, rand);
    for (let a = toUpstream.next(), b = toClient.next(); !a.done || !b.done;) {
      if (!a.done) {
        assert.equal(conn.downstream(a.value).status, "continue");
        a = toUpstream.next();
      }
      if (!b.done) {
        assert.equal(conn.upstream(b.value).status, "continue");
        b = toClient.next();
      }
    }
    assert.ok(conn.forwarded.equals(up), `upstream got exactly the client's bytes (seed ${seed})`);
    assert.ok(conn.written.equals(down), `client got exactly the upstream's bytes (seed ${seed})`);
  }

  const during = workers[0].metrics();
  assert.equal(during.meltemi_active_connections, 3);
  assert.equal(during.meltemi_connections_total, 3);
  for (const { conn } of conns) conn.close();

  const after = workers[1].metrics();
  assert.deepEqual({
    meltemi_active_connections: after.meltemi_active_connections,
    meltemi_config_accepted_total: after.meltemi_config_accepted_total,
    meltemi_config_rejected_total: after.meltemi_config_rejected_total,
    meltemi_connections_total: after.meltemi_connections_total,
    meltemi_downstream_rx_bytes_total: after.meltemi_downstream_rx_bytes_total,
    meltemi_downstream_tx_bytes_total: after.meltemi_downstream_tx_bytes_total,
    meltemi_requests_total: sumOf(prometheusView(after), "meltemi_requests_total"),
  }, {
    meltemi_active_connections: 0,
    meltemi_config_accepted_total: 2,
    meltemi_config_rejected_total: 0,
    meltemi_connections_total: 3,
    meltemi_downstream_rx_bytes_total: 3 * MiB,
    meltemi_downstream_tx_bytes_total: 3 * MiB,
    meltemi_requests_total: 0, // no protocol configured: bytes only, no requests decoded
  });
  for (const w of workers) assert.deepEqual([w.failed, w.warnings], [false, []]);
});

test("meltemi_vm_memory_bytes is the largest linear memory of the proxy's VMs, and follows growth", async () => {
  const shared = new SharedState();
  const a = await load({ shared, name: "worker-0", pluginConfig: JSON.stringify({ version: 1 }) });
  const memoryOf = (vm: WasmHost) => (vm.exports.memory as WebAssembly.Memory).buffer.byteLength;
  assert.equal(a.metrics().meltemi_vm_memory_bytes, memoryOf(a));
  const b = await load({ shared, name: "worker-1", pluginConfig: JSON.stringify({ version: 1 }) });
  // worker-1 grows its memory (as a burst of big frames would); the gauge follows on its next callback.
  (b.exports.memory as WebAssembly.Memory).grow(16);
  const conn = b.connect();
  conn.downstream(Buffer.from("x"));
  assert.equal(b.metrics().meltemi_vm_memory_bytes, memoryOf(b));
  assert.ok(memoryOf(b) > memoryOf(a));
  // worker-0, smaller, does not lower it.
  a.connect().downstream(Buffer.from("y"));
  assert.equal(a.metrics().meltemi_vm_memory_bytes, memoryOf(b));
});

test("wrapImport replaces the module's env imports: a wrapped clock times the request; countHostCalls counts the calls", { skip: !existsSync(WASM) && "build/meltemi.wasm missing" }, async () => {
  const { dubboAnswer, dubboRequest } = await import("../codec/dubbo/frames");
  let clockMs = 0;
  const vm = await WasmHost.load(WASM, {
    pluginConfig: JSON.stringify({ version: 1, name: "greeter", protocol: "dubbo" }),
    countHostCalls: true,
    wrapImport: (name, call) => name !== "proxy_get_current_time_nanoseconds" ? call : (ptr) => {
      clockMs += 7; // every clock read is 7 ms after the previous one
      new DataView((vm.exports.memory as WebAssembly.Memory).buffer).setBigUint64(ptr as number, BigInt(clockMs) * 1_000_000n, true);
      return 0;
    },
  });
  const conn = vm.connect();
  const pair = (id: bigint) => {
    const req = dubboRequest(id, "echo");
    conn.downstream(req);
    conn.upstream(dubboAnswer(req));
  };
  pair(1n); // also seeds the VM's random generator from the clock
  vm.hostCalls.clear();
  pair(2n);
  const durations = [...prometheusView(vm.metrics())].filter(([k]) => k.startsWith("meltemi_request_duration_milliseconds{"));
  assert.deepEqual(durations.map(([, v]) => v), [[7, 7]], "one clock read per callback: the answer's is 7 ms after the request's");
  assert.equal(vm.hostCalls.get("proxy_get_current_time_nanoseconds"), 2);
});
