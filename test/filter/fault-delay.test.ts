// Fault delays in the Node host: a delayed request holds the connection (Pause) until the root's tick
// continues it after the delay (proxy_set_effective_context + proxy_continue_stream); requests that
// arrive meanwhile wait with it and keep their order; nothing is lost or duplicated. The real Envoy:
// test/envoy/fault-delay.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SharedState, WasmHost } from "../host/index";
import { decode } from "../codec/harness";
import { dubboRequest } from "../codec/dubbo/frames";

const wasm = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");

const config = {
  version: 1,
  name: "greeter",
  protocol: "dubbo",
  faults: [{ match: { method: { exact: "slow" } }, delay: { percent: 100, fixedDelayMs: 100 } }],
};

async function ids(bytes: Buffer): Promise<string[]> {
  const d = await decode("dubbo", bytes);
  assert.equal(d.error, "");
  return d.frames.map((f) => f.requestId);
}

test("a delayed request holds the connection until its delay is over, then everything goes on in order", async () => {
  const shared = new SharedState();
  const vm = await WasmHost.load(wasm, { shared, pluginName: "greeter", pluginConfig: JSON.stringify(config) });
  const conn = vm.connect();
  assert.equal(conn.downstream(dubboRequest(1n, "fast")).status, "continue");
  assert.deepEqual(await ids(conn.forwarded), ["1"]);

  const held = conn.downstream(Buffer.concat([dubboRequest(2n, "slow"), dubboRequest(3n, "fast").subarray(0, 10)]));
  assert.equal(held.status, "pause");
  shared.advance(40);
  // More bytes while held: Envoy re-delivers its whole buffer; the filter decides only the new bytes.
  const rest = dubboRequest(3n, "fast").subarray(10);
  assert.equal(conn.downstream(Buffer.concat([rest, dubboRequest(4n, "fast")])).status, "pause");
  assert.deepEqual(await ids(conn.forwarded), ["1"], "nothing passed while held");
  shared.advance(55);
  assert.deepEqual(await ids(conn.forwarded), ["1"], "95 ms: still held");
  shared.advance(10);
  assert.deepEqual(await ids(conn.forwarded), ["1", "2", "3", "4"], "after 100 ms (+ at most one 5 ms tick) all went on, in order");
  assert.equal(conn.held.length, 0);

  // The connection is no longer held: the next request goes at once.
  assert.equal(conn.downstream(dubboRequest(5n, "fast")).status, "continue");
  assert.deepEqual(await ids(conn.forwarded), ["1", "2", "3", "4", "5"]);
  assert.equal(vm.metrics().meltemi_fault_delays_total, 1);
  // Byte counts reach Envoy at a flush point (telemetry/metrics.ts): the connection's close.
  conn.close();
  assert.equal(vm.metrics().meltemi_downstream_rx_bytes_total, conn.forwarded.length, "re-delivered bytes are not counted twice");
  assert.deepEqual(vm.warnings, []);
});

test("two held connections are released by the same root at their own times; a closed one is forgotten", async () => {
  const shared = new SharedState();
  const vm = await WasmHost.load(wasm, { shared, pluginName: "greeter", pluginConfig: JSON.stringify({
    ...config, faults: [
      { match: { method: { exact: "slow" } }, delay: { percent: 100, fixedDelayMs: 100 } },
      { match: { method: { exact: "slower" } }, delay: { percent: 100, fixedDelayMs: 300 } },
    ],
  }) });
  const a = vm.connect();
  const b = vm.connect();
  const c = vm.connect();
  a.downstream(dubboRequest(1n, "slow"));
  b.downstream(dubboRequest(1n, "slower"));
  c.downstream(dubboRequest(1n, "slow"));
  c.close();
  shared.advance(110);
  assert.deepEqual(await ids(a.forwarded), ["1"]);
  assert.equal(b.forwarded.length, 0);
  shared.advance(200);
  assert.deepEqual(await ids(b.forwarded), ["1"]);
  assert.deepEqual(vm.warnings, []);
  assert.equal(vm.failed, false);
});
