// Copy-on-write (filter/network/output.ts): when every frame of a read goes on as it came, the filter
// leaves Envoy's buffer alone (no proxy_set_buffer_bytes); a change, or an incomplete frame kept for
// the next read, replaces the buffer with exactly what must go on. Counted through the Node host's
// buffer-write hook (WasmHost.faults.setBufferBytes, which returns undefined: the write happens).
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WasmHost } from "../host/index";
import { BufferType } from "../host/abi";
import { decode } from "../codec/harness";
import { dubboAnswer, dubboRequest } from "../codec/dubbo/frames";

const wasm = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");

async function load(extra: Record<string, unknown> = {}) {
  const config = {
    version: 1, name: "greeter", protocol: "dubbo", routingMode: "perConnection",
    routes: [{ name: "all", destinations: [{ cluster: "outbound|20880||greeter" }], ...extra }],
  };
  const vm = await WasmHost.load(wasm, { pluginName: "greeter", pluginConfig: JSON.stringify(config) });
  const writes: BufferType[] = [];
  vm.faults.setBufferBytes = (type) => { writes.push(type); return undefined; };
  return { vm, writes };
}

test("unchanged frames, whole in one read: neither buffer is rewritten", async () => {
  const { vm, writes } = await load();
  const conn = vm.connect();
  const requests = Buffer.concat([dubboRequest(1n, "greet"), dubboRequest(2n, "greet")]);
  conn.downstream(requests);
  const answers = Buffer.concat([dubboAnswer(dubboRequest(1n, "greet")), dubboAnswer(dubboRequest(2n, "greet"))]);
  conn.upstream(answers);
  assert.deepEqual(writes, []);
  assert.deepEqual(conn.forwarded, requests);
  assert.deepEqual(conn.written, answers);
});

test("an incomplete frame at the end of a read: the buffer is replaced by the complete frames, then by the rest", async () => {
  const { vm, writes } = await load();
  const conn = vm.connect();
  const a = dubboRequest(1n, "greet");
  const b = dubboRequest(2n, "greet");
  conn.downstream(Buffer.concat([a, b.subarray(0, 10)]));
  assert.deepEqual(conn.forwarded, a);
  conn.downstream(b.subarray(10));
  assert.deepEqual(conn.forwarded, Buffer.concat([a, b]));
  assert.deepEqual(writes, [BufferType.DownstreamData, BufferType.DownstreamData]);
});

test("a mutated frame among unchanged ones: one rewrite, frames in order", async () => {
  const { vm, writes } = await load({ requestMutation: [{ key: "x-env", value: "canary" }] });
  const conn = vm.connect();
  conn.downstream(Buffer.concat([dubboRequest(1n, "greet"), dubboRequest(2n, "greet")]));
  assert.deepEqual(writes, [BufferType.DownstreamData]);
  const sent = await decode("dubbo", conn.forwarded);
  assert.deepEqual(sent.frames.map((f) => [f.requestId, f.metadata["x-env"]]), [["1", "canary"], ["2", "canary"]]);
});
