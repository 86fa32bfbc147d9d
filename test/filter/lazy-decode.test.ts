// Lazy decode (Codec.lazy, FilterConfig.decodesLazily), in the Node host with the Dubbo codec: in
// perConnection mode without mutations or tracing, a request's parameter types, arguments and
// attachments are decoded only when the decision looks up a key they may hold. What a user sees must
// not depend on it: a route on an attachment routes as before, a request whose attachments the
// decision needs but cannot read is refused with BAD_REQUEST as before, and the service label is the
// body's service path whatever the attachments say. The one difference, by design: a request nobody
// asks about goes on with its unread part unchecked (as dubbo_proxy forwards it).
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import hessian from "hessian.js";
import { SharedState, WasmHost } from "../host/index";
import { decode } from "../codec/harness";
import { dubboAnswer, dubboFrame, dubboRequest } from "../codec/dubbo/frames";
import { prometheusView, sumOf } from "../support/stats_tags";

const wasm = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");
const V1 = "outbound|20880|v1|greeter";
const V2 = "outbound|20880|v2|greeter";

function load(routes: object[], extra: object = {}) {
  const config = { version: 1, name: "greeter", protocol: "dubbo", routingMode: "perConnection", routes, ...extra };
  return WasmHost.load(wasm, { pluginName: "greeter", pluginConfig: JSON.stringify(config) });
}

/** A two-way request whose attachments map is cut short by a reserved hessian2 code (0x40) as a value. */
function brokenAttachments(id: bigint): Buffer {
  const enc = new hessian.EncoderV2();
  for (const s of ["2.0.2", "org.example.Greeter", "0.0.0", "greet", "Ljava/lang/String;", "hi"]) enc.write(s);
  return dubboFrame(0xc0, 0, id, Buffer.concat([enc.get(), BROKEN_MAP])); // request, two-way
}

/** An attachments map whose value is a reserved hessian2 code: H "a" <0x40> Z. */
const BROKEN_MAP = Buffer.from([0x48, 0x01, 0x61, 0x40, 0x5a]);

const ON_ATTACHMENT = [
  { name: "alice", match: { "x-user": { exact: "alice" } }, destinations: [{ cluster: V2 }] },
  { name: "rest", destinations: [{ cluster: V1 }] },
];

test("a route on an attachment picks the connection's cluster from a lazily decoded request", async () => {
  for (const [user, cluster] of [["alice", V2], ["bob", V1]]) {
    const vm = await load(ON_ATTACHMENT);
    const conn = vm.connect();
    const r = conn.downstream(dubboRequest(1n, "greet", { "x-user": user }));
    assert.equal(r.status, "continue");
    assert.equal(conn.filterState.get("envoy.tcp_proxy.cluster")?.value.toString(), cluster, user);
    assert.deepEqual(r.forwarded, dubboRequest(1n, "greet", { "x-user": user }), "unchanged");
  }
});

test("attachments the decision needs but cannot read: BAD_REQUEST for the request, then the connection closes", async () => {
  const vm = await load(ON_ATTACHMENT);
  const conn = vm.connect();
  const r = conn.downstream(brokenAttachments(9n));
  const sent = await decode("dubbo", r.forwarded);
  assert.deepEqual(sent.frames.map((f) => [f.kind, f.requestId]), [["heartbeat", "9"]], "a probe goes up in its place, nothing of the request");
  const answer = conn.upstream(dubboAnswer(r.forwarded));
  assert.equal(answer.written[3], 40, "BAD_REQUEST");
  assert.equal(answer.written.readBigInt64BE(4), 9n);
  assert.match(answer.written.toString("latin1"), /meltemi: malformed request \(malformed: /);
  vm.advance(10);
  assert.equal(conn.closedBy, "filter");
  assert.equal(vm.failed, false);
});

test("attachments no decision reads are not decoded: such a request goes on as it came", async () => {
  const vm = await load([{ name: "greet", match: { method: { exact: "greet" } }, destinations: [{ cluster: V2 }] }]);
  const conn = vm.connect();
  const frame = brokenAttachments(3n);
  const r = conn.downstream(frame);
  assert.deepEqual(r.forwarded, frame);
  assert.equal(conn.filterState.get("envoy.tcp_proxy.cluster")?.value.toString(), V2);
  assert.equal(conn.closed, false);
});

test("with a request mutation the frame is decoded whole: broken attachments are refused before anything goes up", async () => {
  const vm = await load([{ name: "greet", destinations: [{ cluster: V2 }], requestMutation: [{ key: "x-routed", value: "v2" }] }]);
  const conn = vm.connect();
  const r = conn.downstream(brokenAttachments(4n));
  const sent = await decode("dubbo", r.forwarded);
  assert.deepEqual(sent.frames.map((f) => [f.kind, f.requestId]), [["heartbeat", "4"]]);
});

test("rpc_service is the body's service path, never a `service` attachment", async () => {
  const vm = await load(ON_ATTACHMENT);
  const conn = vm.connect();
  const r = conn.downstream(dubboRequest(1n, "greet", { service: "spoofed", "x-user": "alice" }));
  conn.upstream(dubboAnswer(r.forwarded));
  const view = prometheusView(vm.metrics());
  assert.equal(sumOf(view, "meltemi_requests_total", { rpc_service: "org.example.Greeter", rpc_method: "greet" }), 1);
  assert.equal(sumOf(view, "meltemi_requests_total", { rpc_service: "spoofed" }), 0);
});

// A full decode refuses a frame with a broken rest before the decision: it takes no token and counts
// no hit. Lazily, the rest is found broken by a lookup during the decision (here the route's, after
// the rate limit): the limit must not have been drawn on by then, or every malformed request would
// spend a token that a valid one then misses.
test("a request refused for its lazily decoded rest spends no rate-limit token, as with a full decode", async () => {
  const oneToken = { localRateLimit: { tokenBucket: { maxTokens: 1, tokensPerFill: 1, fillIntervalMs: 3_600_000 } } };
  const lazy = ON_ATTACHMENT;
  const whole = ON_ATTACHMENT.map((r) => ({ ...r, requestMutation: [{ key: "x-seen", value: "1" }] }));
  for (const [name, routes] of [["lazy", lazy], ["full decode", whole]] as const) {
    const vm = await load(routes, oneToken);
    const refused = vm.connect().downstream(brokenAttachments(7n));
    assert.deepEqual((await decode("dubbo", refused.forwarded)).frames.map((f) => f.kind), ["heartbeat"], name + ": refused");
    const valid = vm.connect().downstream(dubboRequest(8n, "greet", { "x-user": "alice" }));
    const sent = await decode("dubbo", valid.forwarded);
    assert.deepEqual(sent.frames.map((f) => [f.kind, f.requestId]), [["request", "8"]], name + ": the valid request still has its token");
  }
});

test("with a rate limit, a rest no lookup can need is still left undecoded", async () => {
  const vm = await load([{ name: "greet", match: { method: { exact: "greet" } }, destinations: [{ cluster: V2 }] }],
    { localRateLimit: { conditions: [{ match: { method: { exact: "greet" } }, tokenBucket: { maxTokens: 5, fillIntervalMs: 3_600_000 } }] } });
  const conn = vm.connect();
  const frame = brokenAttachments(5n);
  assert.deepEqual(conn.downstream(frame).forwarded, frame);
  assert.equal(conn.closed, false);
});

/** A Dubbo OK answer to `id` with a string value and attachments (flag 4: value with attachments). */
function answerWithAttachments(id: bigint, attachments: Record<string, string>): Buffer {
  const enc = new hessian.EncoderV2();
  for (const v of [4, "hello", attachments]) enc.write(v);
  return dubboFrame(0, 20, id, enc.get());
}

/**
 * A connection with request 1 tracked under a configuration whose route has a response mutation, after
 * the plugin followed a configuration without one (which decodes lazily).
 */
async function trackedBeforeLazyConfig() {
  const mutating = { version: 1, name: "greeter", protocol: "dubbo", routingMode: "perConnection",
    routes: [{ name: "all", destinations: [{ cluster: V1 }], responseMutation: [{ key: "x-served", value: "m" }] }] };
  const lazyConfig = { ...mutating, routes: [{ name: "all", destinations: [{ cluster: V1 }] }] };
  const shared = new SharedState();
  const old = await WasmHost.load(wasm, { shared, name: "old", pluginName: "greeter", pluginConfig: JSON.stringify(mutating) });
  const conn = old.connect();
  conn.downstream(dubboRequest(1n, "greet"));
  await WasmHost.load(wasm, { shared, name: "new", pluginName: "greeter", pluginConfig: JSON.stringify(lazyConfig) });
  shared.advance(1000);
  return { old, conn };
}

// A request tracked under a configuration with a response mutation, answered after the connection
// followed one that decodes lazily: the answer is decoded lazily, and its mutation still applies
// (DubboCodec.encodeMutated decodes the rest first), as under the first configuration.
test("an answer decoded lazily after a configuration change still gets its request's response mutation", async () => {
  const { old, conn } = await trackedBeforeLazyConfig();
  assert.equal(old.metrics().meltemi_config_followed_total, 1);
  conn.downstream(dubboRequest(2n, "greet"));
  const back = conn.upstream(Buffer.concat([answerWithAttachments(1n, { a: "b" }), answerWithAttachments(2n, { a: "c" })]));
  const frames = await decode("dubbo", back.written);
  assert.equal(frames.error, "");
  assert.deepEqual(frames.frames.map((f) => [f.requestId, f.metadata]), [
    ["1", { a: "b", "x-served": "m" }],
    ["2", { a: "c" }],
  ]);
  assert.equal(sumOf(prometheusView(old.metrics()), "meltemi_response_mutation_failures_total"), 0);
});

test("an answer whose lazily decoded rest a response mutation must read, and cannot, closes the connection as a decode error", async () => {
  const { old, conn } = await trackedBeforeLazyConfig();
  const enc = new hessian.EncoderV2();
  enc.write(4);
  enc.write("hello");
  conn.upstream(dubboFrame(0, 20, 1n, Buffer.concat([enc.get(), BROKEN_MAP])));
  old.advance(10);
  assert.equal(conn.closedBy, "filter", "as a full decode refuses it");
  assert.equal(sumOf(prometheusView(old.metrics()), "meltemi_response_mutation_failures_total"), 0);
});
