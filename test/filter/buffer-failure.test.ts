// A buffer Envoy refuses to hand over or to replace: the filter fails closed. Whatever the read
// held was not decided (or its decision, e.g. a denied request replaced by a probe, was not written),
// so none of it may go on: the connection is closed, counted and logged, and the original bytes stay
// behind. Faults are injected through the Node host (WasmHost.faults).
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WasmHost } from "../host/index";
import { BufferType, WasmResult } from "../host/abi";
import { decode } from "../codec/harness";
import { dubboAnswer, dubboRequest } from "../codec/dubbo/frames";

const wasm = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");
const config = {
  version: 1, name: "greeter", protocol: "dubbo", routingMode: "perRequest",
  routes: [{ name: "all", destinations: [{ cluster: "outbound|20880|v1|greeter" }] }],
  authorization: [{ name: "no-admin", action: "DENY", rules: [{ to: [{ methods: ["admin*"] }] }] }],
};
const load = () => WasmHost.load(wasm, { pluginName: "greeter", pluginConfig: JSON.stringify(config) });

test("control: a denied request is replaced upstream by a probe", async () => {
  const vm = await load();
  const conn = vm.connect();
  conn.downstream(dubboRequest(1n, "adminReset"));
  const sent = await decode("dubbo", conn.forwarded);
  assert.deepEqual(sent.frames.map((f) => f.kind), ["heartbeat"]);
  assert.equal(conn.closed, false);
});

test("the write of a denied request's probe fails: nothing goes upstream, the connection closes", async () => {
  const vm = await load();
  const conn = vm.connect();
  vm.faults.setBufferBytes = (type) => (type === BufferType.DownstreamData ? WasmResult.BadArgument : undefined);
  const r = conn.downstream(Buffer.concat([dubboRequest(1n, "greet"), dubboRequest(2n, "adminReset")]));
  assert.equal(r.status, "pause");
  assert.equal(conn.forwarded.length, 0, "the original bytes (with the denied request) never go on");
  assert.equal(conn.closedBy, "filter");
  assert.equal(vm.metrics().meltemi_buffer_failures_total, 1);
  assert.ok(vm.logs.some((l) => l.message.includes("could not write the downstream buffer")));
  assert.equal(vm.failed, false);
});

test("the read of the client's bytes fails: nothing goes upstream undecided, the connection closes", async () => {
  const vm = await load();
  const conn = vm.connect();
  vm.faults.getBufferBytes = (type) => (type === BufferType.DownstreamData ? WasmResult.NotFound : undefined);
  conn.downstream(dubboRequest(1n, "adminReset"));
  assert.equal(conn.forwarded.length, 0);
  assert.equal(conn.closedBy, "filter");
  assert.equal(vm.metrics().meltemi_buffer_failures_total, 1);
});

test("the rewrite of an answer fails: the raw probe answer does not reach the client, the connection closes", async () => {
  const vm = await load();
  const conn = vm.connect();
  conn.downstream(dubboRequest(1n, "adminReset"));
  const probe = conn.forwarded;
  vm.faults.setBufferBytes = (type) => (type === BufferType.UpstreamData ? WasmResult.BadArgument : undefined);
  conn.upstream(dubboAnswer(probe));
  assert.equal(conn.written.length, 0);
  assert.equal(conn.closedBy, "filter");
  assert.equal(vm.metrics().meltemi_buffer_failures_total, 1);
});
