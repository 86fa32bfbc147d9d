// The filter with the tRPC codec in the Node host (perConnection: tRPC has no native Envoy router):
// the first request picks the connection's cluster, a route's mutation reaches the trans_info, a
// denied and an over-limit request are answered with tRPC error answers (ret per ErrorKind) through
// no-func probes, a oneway call passes unanswered, a malformed request gets RetServerDecodeFail before
// the close, and the request metric carries the method.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SharedState, WasmHost } from "../host/index";
import { decode } from "../codec/harness";
import { prometheusView, sumOf } from "../support/stats_tags";
import { trpcAnswer, trpcAnswerFields, trpcFrames, trpcRequest } from "../codec/trpc/frames";

const wasm = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");
const HELLO = "/trpc.meltemi.test.Greeter/Hello";
const ADMIN = "/trpc.meltemi.test.Greeter/AdminReset";
const NOTIFY = "/trpc.meltemi.test.Greeter/Notify";

const config = {
  version: 1,
  name: "greeter",
  protocol: "trpc",
  routingMode: "perConnection",
  routes: [
    { name: "hello", match: { method: { exact: "Hello" } }, destinations: [{ cluster: "outbound|8000|v2|greeter" }], requestMutation: [{ key: "x-routed", value: "v2" }] },
    { name: "rest", destinations: [{ cluster: "outbound|8000|v1|greeter" }] },
  ],
  localRateLimit: { tokenBucket: { maxTokens: 4, tokensPerFill: 4, fillIntervalMs: 3_600_000 } },
  authorization: [{ name: "no-admin", action: "DENY", rules: [{ to: [{ methods: ["Admin*"] }] }] }],
};

test("one tRPC connection: cluster from the first request, mutation, denial and limit as tRPC error answers, oneway unanswered", async () => {
  const worker = await WasmHost.load(wasm, { shared: new SharedState(), pluginName: "greeter", pluginConfig: JSON.stringify(config) });
  const conn = worker.connect();
  const requests = [
    trpcRequest(1, HELLO, { transInfo: { "x-user": "alice" } }), trpcRequest(3, ADMIN), trpcRequest(4, NOTIFY, { oneway: true }),
    trpcRequest(5, HELLO), trpcRequest(7, HELLO), trpcRequest(9, HELLO),
  ];
  const all = Buffer.concat(requests);
  assert.equal(conn.downstream(all.subarray(0, 10)).status, "pause", "the first request is incomplete: the connection waits");
  assert.equal(conn.downstream(all.subarray(10)).status, "continue");
  assert.equal(conn.filterState.get("envoy.tcp_proxy.cluster")?.value.toString(), "outbound|8000|v2|greeter");

  const sent = await decode("trpc", conn.forwarded);
  assert.equal(sent.error, "");
  assert.deepEqual(sent.frames.map((f) => [f.requestId, f.kind, f.metadata.func, f.metadata["x-routed"] ?? ""]), [
    ["1", "request", HELLO, "v2"],
    ["3", "request", "/meltemi-probe/none", ""], // denied: a probe with its id goes up in its place
    ["4", "oneway", NOTIFY, ""],
    ["5", "request", HELLO, "v2"],
    ["7", "request", HELLO, "v2"],
    ["9", "request", "/meltemi-probe/none", ""], // over the limit of 4 (1, 4, 5, 7)
  ]);
  assert.equal(sent.frames[0].metadata["x-user"], "alice", "the client's own entry is kept");

  // The upstream answers every two-way frame; the client sees error answers in place of the probes'.
  conn.upstream(Buffer.concat(trpcFrames(conn.forwarded).filter((_, i) => i !== 2).map(trpcAnswer)));
  const back = trpcFrames(conn.written).map(trpcAnswerFields);
  assert.deepEqual(back.map((a) => [a.requestId, a.ret]), [[1, 0], [3, 41 /* RetServerAuthFail */], [5, 0], [7, 0], [9, 23 /* RetServerThrottled */]]);
  assert.match(back[1].errorMsg, /unauthorized \(no-admin\)/);
  assert.match(back[4].errorMsg, /rate limit exceeded/);
  const decoded = await decode("trpc", conn.written, [], {}, true);
  assert.deepEqual(decoded.frames.map((f) => f.kind), ["response", "error", "response", "response", "error"]);

  const view = prometheusView(worker.metrics());
  assert.equal(sumOf(view, "meltemi_requests_total"), 6);
  assert.equal(sumOf(view, "meltemi_rejections_total"), 2);
  assert.equal(sumOf(view, "meltemi_requests_total", { method: "Hello" }), 4, "the request metric has the method label");
  assert.equal(sumOf(view, "meltemi_requests_total", { method: "AdminReset" }), 1);
});

test("a malformed tRPC request is answered RetServerDecodeFail with its id, then the connection closes", async () => {
  const worker = await WasmHost.load(wasm, { shared: new SharedState(), pluginName: "greeter", pluginConfig: JSON.stringify({ ...config, limits: { maxFrameBytes: 256 } }) });
  const conn = worker.connect();
  conn.downstream(trpcRequest(11, HELLO, { body: Buffer.alloc(1024) }));
  const sent = await decode("trpc", conn.forwarded);
  assert.deepEqual(sent.frames.map((f) => [f.requestId, f.metadata.func]), [["11", "/meltemi-probe/none"]], "a probe with the refused request's id");
  conn.upstream(Buffer.concat(trpcFrames(conn.forwarded).map(trpcAnswer)));
  const back = trpcFrames(conn.written).map(trpcAnswerFields);
  assert.deepEqual(back.map((a) => [a.requestId, a.ret]), [[11, 1]]);
  assert.match(back[0].errorMsg, /malformed request/);
  worker.advance(10);
  assert.equal(conn.closed, true);
});

test("a rejected oneway call is dropped: nothing goes up for it and nothing comes back", async () => {
  const worker = await WasmHost.load(wasm, { shared: new SharedState(), pluginName: "greeter", pluginConfig: JSON.stringify({ ...config, localRateLimit: { tokenBucket: { maxTokens: 1, tokensPerFill: 1, fillIntervalMs: 3_600_000 } } }) });
  const conn = worker.connect();
  conn.downstream(Buffer.concat([trpcRequest(1, HELLO), trpcRequest(2, NOTIFY, { oneway: true }), trpcRequest(3, ADMIN)]));
  const sent = await decode("trpc", conn.forwarded);
  assert.deepEqual(sent.frames.map((f) => [f.requestId, f.metadata.func]), [["1", HELLO], ["3", "/meltemi-probe/none"]]);
  conn.upstream(Buffer.concat(trpcFrames(conn.forwarded).map(trpcAnswer)));
  assert.deepEqual(trpcFrames(conn.written).map(trpcAnswerFields).map((a) => [a.requestId, a.ret]), [[1, 0], [3, 41]]);
  const view = prometheusView(worker.metrics());
  assert.equal(sumOf(view, "meltemi_rejections_total"), 2);
});
