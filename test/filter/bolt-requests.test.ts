// The filter with the SOFA Bolt codec in the Node host (perConnection: Bolt has no native Envoy
// router): the first request picks the connection's cluster, a route's mutation reaches the header
// map, a denied and an over-limit request are answered with Bolt error responses (status per
// ErrorKind) through heartbeat probes, heartbeats pass through, a malformed request gets
// SERVER_DESERIAL_EXCEPTION before the close, and the request metric carries the method.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SharedState, WasmHost } from "../host/index";
import { decode } from "../codec/harness";
import { prometheusView, sumOf } from "../support/stats_tags";
import { boltAnswer, boltFrames, boltHeartbeat, boltRequest } from "../codec/bolt/frames";

const wasm = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");

const config = {
  version: 1,
  name: "greeter",
  protocol: "bolt",
  routingMode: "perConnection",
  routes: [
    { name: "greet", match: { method: { exact: "greet" } }, destinations: [{ cluster: "outbound|12200|v2|greeter" }], requestMutation: [{ key: "x-routed", value: "v2" }] },
    { name: "rest", destinations: [{ cluster: "outbound|12200|v1|greeter" }] },
  ],
  localRateLimit: { tokenBucket: { maxTokens: 3, tokensPerFill: 3, fillIntervalMs: 3_600_000 } },
  authorization: [{ name: "no-admin", action: "DENY", rules: [{ to: [{ methods: ["admin*"] }] }] }],
};

test("one Bolt connection: cluster from the first request, mutation, denial and limit as Bolt error responses, heartbeats through", async () => {
  const worker = await WasmHost.load(wasm, { shared: new SharedState(), pluginName: "greeter", pluginConfig: JSON.stringify(config) });
  const conn = worker.connect();
  const requests = [boltRequest(1, "greet"), boltRequest(3, "adminReset"), boltHeartbeat(4), boltRequest(5, "greet"), boltRequest(7, "greet"), boltRequest(9, "greet")];
  const all = Buffer.concat(requests);
  assert.equal(conn.downstream(all.subarray(0, 10)).status, "pause", "the first request is incomplete: the connection waits");
  assert.equal(conn.downstream(all.subarray(10)).status, "continue");
  assert.equal(conn.filterState.get("envoy.tcp_proxy.cluster")?.value.toString(), "outbound|12200|v2|greeter");

  const sent = await decode("bolt", conn.forwarded);
  assert.equal(sent.error, "");
  assert.deepEqual(sent.frames.map((f) => [f.requestId, f.kind, f.metadata.method ?? "", f.metadata["x-routed"] ?? "", f.metadata.service ?? ""]), [
    ["1", "request", "greet", "v2", "org.example.Greeter:1.0"],
    ["3", "heartbeat", "", "", ""], // denied: a probe with its id goes up in its place
    ["4", "heartbeat", "", "", ""], // the client's own heartbeat, untouched
    ["5", "request", "greet", "v2", "org.example.Greeter:1.0"],
    ["7", "request", "greet", "v2", "org.example.Greeter:1.0"],
    ["9", "heartbeat", "", "", ""], // over the limit of 3
  ]);

  // The upstream answers each frame; the client sees error responses in place of the probes' acks.
  conn.upstream(Buffer.concat(boltFrames(conn.forwarded).map(boltAnswer)));
  const back = boltFrames(conn.written);
  assert.deepEqual(back.map((f) => [f.readInt32BE(5), f.readUInt16BE(2), f.readUInt16BE(10)]), [
    [1, 2, 0], [3, 2, 2 /* SERVER_EXCEPTION */], [4, 0, 0 /* the heartbeat ack */], [5, 2, 0], [7, 2, 0], [9, 2, 4 /* SERVER_THREADPOOL_BUSY */],
  ]);
  assert.match(back[1].toString("latin1"), /unauthorized \(no-admin\)/);
  assert.match(back[5].toString("latin1"), /rate limit exceeded/);
  const decoded = await decode("bolt", conn.written);
  assert.deepEqual(decoded.frames.map((f) => f.kind), ["response", "error", "heartbeat", "response", "response", "error"]);

  const view = prometheusView(worker.metrics());
  assert.equal(sumOf(view, "meltemi_requests_total"), 5);
  assert.equal(sumOf(view, "meltemi_rejections_total"), 2);
  assert.equal(sumOf(view, "meltemi_requests_total", { method: "greet" }), 4, "the request metric has the method label");
  assert.equal(sumOf(view, "meltemi_requests_total", { method: "adminReset" }), 1);
});

test("a malformed Bolt request is answered SERVER_DESERIAL_EXCEPTION with its id, then the connection closes", async () => {
  const worker = await WasmHost.load(wasm, { shared: new SharedState(), pluginName: "greeter", pluginConfig: JSON.stringify({ ...config, limits: { maxFrameBytes: 256 } }) });
  const conn = worker.connect();
  conn.downstream(boltRequest(11, "greet", {}, { content: Buffer.alloc(1024) }));
  const sent = await decode("bolt", conn.forwarded);
  assert.deepEqual(sent.frames.map((f) => [f.requestId, f.kind]), [["11", "heartbeat"]], "a probe with the refused request's id");
  conn.upstream(Buffer.concat(boltFrames(conn.forwarded).map(boltAnswer)));
  const back = boltFrames(conn.written);
  assert.deepEqual(back.map((f) => [f.readInt32BE(5), f.readUInt16BE(10)]), [[11, 0x12]]);
  assert.match(back[0].toString("latin1"), /malformed request/);
  worker.advance(10);
  assert.equal(conn.closed, true);
});
