// Wasm memory under a backlog, in the Node host: when Envoy falls behind it hands the filter large
// reads (up to a connection's buffer limit), on many connections at once. The filter's buffers for one
// read must not stay allocated per connection after the read is done (Wasm memory never shrinks), so
// the peak depends on the largest read, not on the number of connections that once had one.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WasmHost } from "../host/index";
import { dubboAnswer, dubboRequest } from "../codec/dubbo/frames";

const wasm = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");
const config = {
  version: 1, name: "greeter", protocol: "dubbo", routingMode: "perConnection",
  routes: [{ name: "all", destinations: [{ cluster: "outbound|20880|v1|greeter" }], requestMutation: [{ key: "x-routed", value: "v1" }] }],
};

test("16 connections each handed a 400 KiB read both ways: Wasm memory stays near one read's worth", async () => {
  const worker = await WasmHost.load(wasm, { pluginName: "greeter", pluginConfig: JSON.stringify(config) });
  const one = dubboRequest(1n, "greet");
  const perRead = Math.floor((400 * 1024) / one.length);
  const MiB = 1024 * 1024;
  const memory = () => worker.metrics()["meltemi_vm_memory_bytes"] as number;
  const conns = [];
  for (let c = 0; c < 16; c++) {
    const conn = worker.connect();
    conns.push(conn); // all stay open
    const requests = Array.from({ length: perRead }, (_, i) => dubboRequest(BigInt(i + 1), "greet"));
    conn.downstream(Buffer.concat(requests));
    assert.equal(conn.forwarded.length > requests.length * one.length, true, "every request forwarded, with its mutation");
    conn.upstream(Buffer.concat(requests.map(dubboAnswer)));
    assert.equal(conn.written.length, perRead * dubboAnswer(one).length, "every answer written");
  }
  const peak = memory();
  console.log(`# Wasm memory after 16 connections x ${perRead} requests each way: ${(peak / MiB).toFixed(2)} MiB`);
  assert.ok(peak <= 6 * MiB, `Wasm memory ${(peak / MiB).toFixed(2)} MiB: buffers of finished reads stay allocated per connection`);
});
