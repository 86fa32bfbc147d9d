// Oneway methods sent as CALL (Apache Thrift Go clients do: lib/go/thrift/client.go), in the Node host.
// The filter learns them from answers that overtake them (filter/network/oneway.ts): a rejected call of
// such a method is then dropped, like a real ONEWAY, instead of answered with an error reply the client
// never reads (which would put every later reply out of step); and calls that never get answers do not
// fill the in-flight table. The real Go client through the real Envoy: test/envoy/thrift-go-oneway.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WasmHost } from "../host/index";
import { decode } from "../codec/harness";
import { WIRES, encodeWith, thrift } from "../codec/thrift/peers";
import { prometheusView, sumOf } from "../support/stats_tags";

const wasm = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");
const framed = WIRES.find((w) => w.name === "framed binary")!;
const { MessageType, Type } = thrift.Thrift;

/** notify is allowed once (then rate limited for an hour); everything else always. */
const config = {
  version: 1, name: "greeter", protocol: "thrift", routingMode: "perConnection",
  routes: [{ name: "all", destinations: [{ cluster: "outbound|9090||greeter" }] }],
  localRateLimit: { conditions: [{ match: { method: { exact: "notify" } }, tokenBucket: { maxTokens: 1, fillIntervalMs: 3_600_000 } }] },
};

function message(method: string, type: number, seqid: number): Buffer {
  return encodeWith(framed, (p: { [k: string]: (...a: unknown[]) => void }) => {
    p.writeMessageBegin(method, type, seqid);
    p.writeStructBegin("x");
    if (type === MessageType.REPLY) { p.writeFieldBegin("success", Type.STRING, 0); p.writeString("hi"); p.writeFieldEnd(); }
    p.writeFieldStop();
    p.writeStructEnd();
    p.writeMessageEnd();
  });
}
const call = (method: string, seqid: number) => message(method, MessageType.CALL, seqid);
const reply = (method: string, seqid: number) => message(method, MessageType.REPLY, seqid);

async function framesOf(bytes: Buffer): Promise<[string, string, string][]> {
  const r = await decode("thrift", bytes);
  assert.equal(r.error, "");
  return r.frames.map((f) => [f.kind, f.requestId, f.metadata.method ?? ""]);
}

test("a oneway method sent as CALL is learned from the answer that overtakes it; its rejection is then dropped", async () => {
  const vm = await WasmHost.load(wasm, { pluginName: "greeter", pluginConfig: JSON.stringify(config) });
  const conn = vm.connect();
  conn.downstream(Buffer.concat([call("notify", 1), call("hello", 2)]));
  conn.upstream(reply("hello", 2)); // the server answers hello, never notify: notify is oneway
  conn.downstream(Buffer.concat([call("notify", 3), call("hello", 4)])); // notify is rate limited now
  conn.upstream(reply("hello", 4));
  assert.deepEqual(await framesOf(conn.forwarded), [["request", "1", "notify"], ["request", "2", "hello"], ["request", "4", "hello"]],
    "the rejected notify went nowhere (no probe in its place)");
  assert.deepEqual(await framesOf(conn.written), [["response", "2", "hello"], ["response", "4", "hello"]],
    "no error reply for the rejected notify: the client reads the reply to its next call next");
  const view = prometheusView(vm.metrics());
  assert.equal(sumOf(view, "meltemi_requests_total", { rpc_method: "notify", rpc_status: "oneway" }), 1);
  assert.equal(sumOf(view, "meltemi_requests_total", { rpc_method: "notify", rpc_status: "over_limit" }), 1);
  assert.equal(sumOf(view, "meltemi_requests_total", { rpc_method: "hello", rpc_status: "ok" }), 2);
});

test("an answer proves a method two-way: an overtaken call of it is only slow, and its rejection gets its error reply", async () => {
  const vm = await WasmHost.load(wasm, { pluginName: "greeter", pluginConfig: JSON.stringify(config) });
  const conn = vm.connect();
  conn.downstream(call("notify", 1));
  conn.upstream(reply("notify", 1)); // notify is answered here: two-way
  conn.downstream(Buffer.concat([call("notify", 2), call("hello", 3)])); // notify rate limited: a probe goes in its place
  const forwarded = await framesOf(conn.forwarded);
  assert.deepEqual(forwarded.map((f) => f[2]), ["notify", "meltemi-probe", "hello"]);
  conn.upstream(Buffer.concat([message("meltemi-probe", MessageType.EXCEPTION, 2), reply("hello", 3)]));
  const written = await framesOf(conn.written);
  assert.deepEqual(written.map((f) => [f[0], f[1]]), [["response", "1"], ["error", "2"], ["response", "3"]]);
});

test("a method never forwarded cannot be learned: its rejection still gets an error reply (the documented limit)", async () => {
  const vm = await WasmHost.load(wasm, { pluginName: "greeter", pluginConfig: JSON.stringify({ ...config, localRateLimit: { conditions: [{ match: { method: { exact: "notify" } }, tokenBucket: { maxTokens: 0, fillIntervalMs: 3_600_000 } }] } }) });
  const conn = vm.connect();
  conn.downstream(call("notify", 1));
  assert.deepEqual((await framesOf(conn.forwarded)).map((f) => f[2]), ["meltemi-probe"]);
});

test("calls that never get answers do not fill the in-flight table: later calls are still timed with their status", async () => {
  const vm = await WasmHost.load(wasm, { pluginName: "greeter", pluginConfig: JSON.stringify({ ...config, localRateLimit: undefined }) });
  const conn = vm.connect();
  const N = 5000; // past the table's 4,096 entries, none answered (nothing overtakes them yet)
  conn.downstream(Buffer.concat(Array.from({ length: N }, (_, i) => call("notify", i + 1))));
  conn.downstream(call("hello", N + 1));
  conn.upstream(reply("hello", N + 1));
  conn.downstream(call("hello", N + 2));
  conn.upstream(reply("hello", N + 2));
  const view = prometheusView(vm.metrics());
  assert.equal(sumOf(view, "meltemi_requests_total", { rpc_method: "hello", rpc_status: "ok" }), 2, "hello timed and answered ok, not unknown");
  assert.equal(sumOf(view, "meltemi_requests_total", { rpc_method: "hello", rpc_status: "unknown" }), 0);
  // 4,095 notify entries were overtaken by hello's answer (oneway); the oldest ones made room (unknown).
  assert.equal(sumOf(view, "meltemi_requests_total", { rpc_method: "notify", rpc_status: "oneway" }), 4095);
  assert.equal(sumOf(view, "meltemi_requests_total", { rpc_method: "notify", rpc_status: "unknown" }), N - 4095);
  assert.equal(conn.written.length, 2 * reply("hello", 1).length);
});
