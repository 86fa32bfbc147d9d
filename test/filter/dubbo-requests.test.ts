// The filter's per-request path with the Dubbo codec, in the Node host (two workers, one proxy's shared
// state): decisions per request on one connection, rejections carried to the client as Dubbo error
// replies through heartbeat probes, the first request picking the connection's cluster, and the other
// requests on the connection unaffected.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SharedState, WasmHost } from "../host/index";
import { decode } from "../codec/harness";
import { prometheusView, sumOf } from "../support/stats_tags";
import { dubboAnswer as answer, dubboRequest } from "../codec/dubbo/frames";

const wasm = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");

const config = {
  version: 1,
  name: "greeter",
  protocol: "dubbo",
  routingMode: "perConnection",
  routes: [
    { name: "greet", match: { method: { exact: "greet" } }, destinations: [{ cluster: "outbound|20880|v2|greeter" }], requestMutation: [{ key: "x-routed", value: "v2" }] },
    { name: "rest", destinations: [{ cluster: "outbound|20880|v1|greeter" }] },
  ],
  localRateLimit: { tokenBucket: { maxTokens: 3, tokensPerFill: 3, fillIntervalMs: 1000 } },
  authorization: [{ name: "no-admin", action: "DENY", rules: [{ to: [{ methods: ["admin*"] }] }] }],
};

test("one Dubbo connection: forwards, mutates, rejects with error replies, picks the cluster from the first request", async () => {
  const shared = new SharedState();
  const worker = await WasmHost.load(wasm, { shared, pluginName: "greeter", pluginConfig: JSON.stringify(config) });
  const conn = worker.connect();
  const requests = [dubboRequest(1n, "greet"), dubboRequest(2n, "adminReset"), dubboRequest(3n, "greet"), dubboRequest(4n, "greet"), dubboRequest(5n, "greet")];
  const all = Buffer.concat(requests);

  // The first request arrives in pieces: the connection waits (Pause) until it is complete.
  const first = conn.downstream(all.subarray(0, 20));
  assert.equal(first.status, "pause");
  const rest = conn.downstream(all.subarray(20));
  assert.equal(rest.status, "continue");
  assert.equal(conn.filterState.get("envoy.tcp_proxy.cluster")?.value.toString(), "outbound|20880|v2|greeter");

  const sent = await decode("dubbo", conn.forwarded);
  assert.equal(sent.error, "");
  assert.deepEqual(sent.frames.map((f) => [f.requestId, f.kind, f.metadata.method ?? "", f.metadata["x-routed"] ?? ""]), [
    ["1", "request", "greet", "v2"],
    ["2", "heartbeat", "", ""], // denied: a probe goes upstream in its place
    ["3", "request", "greet", "v2"],
    ["4", "request", "greet", "v2"],
    ["5", "heartbeat", "", ""], // over the limit of 3 per second
  ]);

  // The upstream answers every frame it got, in one piece; the client gets error replies for 2 and 5.
  const upstreamFrames = (await decode("dubbo", conn.forwarded)).frames;
  let at = 0;
  const answers = upstreamFrames.map((f) => { const frame = conn.forwarded.subarray(at, at + f.frameLength); at += f.frameLength; return answer(frame); });
  conn.upstream(Buffer.concat(answers));
  const back = await decode("dubbo", conn.written);
  assert.equal(back.error, "");
  assert.deepEqual(back.frames.map((f) => [f.requestId, f.kind]), [
    ["1", "response"], ["2", "error"], ["3", "response"], ["4", "response"], ["5", "error"],
  ]);
  assert.match(conn.written.toString("latin1"), /unauthorized \(no-admin\)/);
  assert.match(conn.written.toString("latin1"), /rate limit exceeded/);

  const m = worker.metrics();
  assert.equal(sumOf(prometheusView(m), "meltemi_requests_total"), 5);
  assert.equal(sumOf(prometheusView(m), "meltemi_rejections_total"), 2);
});

test("a second worker draws from the same rate-limit budget", async () => {
  const shared = new SharedState();
  const w1 = await WasmHost.load(wasm, { shared, name: "w1", pluginName: "greeter", pluginConfig: JSON.stringify(config) });
  const w2 = await WasmHost.load(wasm, { shared, name: "w2", pluginName: "greeter", pluginConfig: JSON.stringify(config) });
  const kinds: string[] = [];
  for (let i = 0; i < 6; i++) {
    const conn = (i % 2 === 0 ? w1 : w2).connect();
    conn.downstream(dubboRequest(BigInt(i + 1), "greet"));
    kinds.push((await decode("dubbo", conn.forwarded)).frames[0].kind);
  }
  assert.deepEqual(kinds, ["request", "request", "request", "heartbeat", "heartbeat", "heartbeat"]);
  shared.advance(1000);
  const later = w2.connect();
  later.downstream(dubboRequest(9n, "greet"));
  assert.equal((await decode("dubbo", later.forwarded)).frames[0].kind, "request", "the bucket refills after a second");
});

test("a malformed frame closes the connection with a log line and a counter, never a trap", async () => {
  const worker = await WasmHost.load(wasm, { pluginName: "greeter", pluginConfig: JSON.stringify(config) });
  const conn = worker.connect();
  conn.downstream(Buffer.from("GET / HTTP/1.1\r\n\r\n"));
  assert.equal(conn.closedBy, "filter");
  assert.equal(sumOf(prometheusView(worker.metrics()), "meltemi_decode_errors_total", { reason: "malformed" }), 1);
  assert.ok(worker.logs.some((l) => /dubbo request malformed: not a Dubbo frame/.test(l.message)));
});
