// Request telemetry in the Node host: counters and durations by reporter, protocol, service, method and
// status, rejections and decode errors by reason, with Envoy's tag extraction applied by the same
// rules the controller generates (test/support/stats_tags.ts), a bounded label cardinality and safe
// label values. The real Envoy's /stats/prometheus: test/envoy/telemetry.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SharedState, WasmHost } from "../host/index";
import { DubboFrameReader, dubboAnswer, dubboRequest } from "../codec/dubbo/frames";
import { extractTags, prometheusView, sumOf } from "../support/stats_tags";

const wasm = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");

const base = {
  version: 1,
  name: "greeter",
  protocol: "dubbo",
  authorization: [{ name: "no-admin", action: "DENY", rules: [{ to: [{ methods: ["admin*"] }] }] }],
};

async function worker(config: object = base, shared = new SharedState()) {
  // An inbound listener (TrafficDirection INBOUND = 1): Istio's reporter "destination".
  return WasmHost.load(wasm, { shared, pluginName: "greeter", pluginConfig: JSON.stringify(config), properties: { "xds\0listener_direction": 1 } });
}

const labels = (method: string, status: string) => ({
  reporter: "destination", request_protocol: "dubbo", rpc_service: "org.example.Greeter", rpc_method: method, rpc_status: status,
});

function key(name: string, l: Record<string, string>): string {
  return `${name}{${Object.keys(l).sort().map((k) => `${k}="${l[k]}"`).join(",")}}`;
}

test("every metric name leaves a clean Prometheus name after tag extraction", async () => {
  const vm = await worker();
  const conn = vm.connect();
  conn.downstream(dubboRequest(1n, "echo"));
  conn.upstream(dubboAnswer(conn.forwarded));
  for (const stat of Object.keys(vm.metrics())) {
    const { name } = extractTags(stat);
    assert.match(name, /^meltemi_[a-z_]+$/, `${stat} -> ${name}`);
  }
});

test("requests are counted by service, method and status when the answer comes, with their duration", async () => {
  const shared = new SharedState();
  const vm = await worker(base, shared);
  const conn = vm.connect();
  const reqs = [dubboRequest(1n, "echo"), dubboRequest(2n, "adminReset"), dubboRequest(3n, "echo"), dubboRequest(4n, "greet")];
  conn.downstream(Buffer.concat(reqs));
  shared.advance(7);
  // The upstream answers 1 and 3 OK, 4 with a SERVICE_ERROR status, and the probe (heartbeat) of 2.
  const err = dubboAnswer(reqs[3]);
  err[3] = 70;
  const probe = conn.forwarded.subarray(reqs[0].length, conn.forwarded.length - reqs[2].length - reqs[3].length);
  conn.upstream(Buffer.concat([dubboAnswer(reqs[0]), dubboAnswer(probe), dubboAnswer(reqs[2])]));
  shared.advance(5);
  conn.upstream(err);

  const view = prometheusView(vm.metrics());
  assert.equal(view.get(key("meltemi_requests_total", labels("echo", "ok"))), 2);
  assert.equal(view.get(key("meltemi_requests_total", labels("adminReset", "unauthorized"))), 1);
  assert.equal(view.get(key("meltemi_requests_total", labels("greet", "error"))), 1);
  assert.deepEqual(view.get(key("meltemi_request_duration_milliseconds", labels("echo", "ok"))), [7, 7]);
  assert.deepEqual(view.get(key("meltemi_request_duration_milliseconds", labels("greet", "error"))), [12]);
  assert.equal(view.get('meltemi_rejections_total{reason="unauthorized"}'), 1);
  assert.equal(view.get('meltemi_rejections_total{reason="over_limit"}'), 0);
});

test("label sets are bounded per VM: random method names land in _overflow", async () => {
  const vm = await worker({ ...base, metrics: { maxLabelSets: 3 } });
  const conn = vm.connect();
  for (let i = 0; i < 10; i++) {
    const req = dubboRequest(BigInt(i + 1), `m${i}`);
    conn.downstream(req);
    conn.upstream(dubboAnswer(req));
  }
  const view = prometheusView(vm.metrics());
  const series = [...view.keys()].filter((k) => k.startsWith("meltemi_requests_total{"));
  assert.equal(series.length, 4, series.join("\n"));
  assert.equal(sumOf(view, "meltemi_requests_total", { rpc_method: "_overflow", rpc_service: "_overflow" }), 7);
  assert.equal(sumOf(view, "meltemi_requests_total"), 10);
});

test("label values from the wire cannot break the name: separators and odd bytes become _", async () => {
  const vm = await worker();
  const conn = vm.connect();
  const req = dubboRequest(1n, "a;.;rpc_status=.=ok;.;é" + "x".repeat(300));
  conn.downstream(req);
  conn.upstream(dubboAnswer(req));
  const view = prometheusView(vm.metrics());
  const series = [...view.keys()].filter((k) => k.startsWith("meltemi_requests_total{"));
  assert.equal(series.length, 1);
  const method = /rpc_method="([^"]*)"/.exec(series[0])![1];
  assert.equal(method, ("a_._rpc_status_._ok_._" + "__" + "x".repeat(300)).slice(0, 128));
  assert.match(series[0], /rpc_status="ok"/);
});

test("a one-way request is counted when forwarded, a decode error by its reason", async () => {
  const vm = await worker();
  const conn = vm.connect();
  const oneway = dubboRequest(1n, "notify");
  oneway[2] &= ~0x40; // clear the two-way bit
  conn.downstream(oneway);
  conn.downstream(Buffer.from("GET / HTTP/1.1\r\n\r\n"));
  const view = prometheusView(vm.metrics());
  assert.equal(view.get(key("meltemi_requests_total", labels("notify", "oneway"))), 1);
  assert.equal(view.get('meltemi_decode_errors_total{reason="malformed"}'), 1);
  assert.equal(conn.closedBy, "filter");
});

test("an outbound listener reports as the source; no direction: unknown", async () => {
  for (const [direction, reporter] of [[2, "source"], [0, "unknown"]] as const) {
    const vm = await WasmHost.load(wasm, { pluginName: "g", pluginConfig: JSON.stringify(base), properties: { "xds\0listener_direction": direction } });
    const conn = vm.connect();
    const req = dubboRequest(1n, "echo");
    conn.downstream(req);
    conn.upstream(dubboAnswer(req));
    assert.equal(sumOf(prometheusView(vm.metrics()), "meltemi_requests_total", { reporter }), 1);
  }
});

test("access log: off by default; when enabled one line per request in the configured format, through proxy_log", async () => {
  const quiet = await worker();
  const q = quiet.connect();
  q.downstream(dubboRequest(1n, "echo"));
  q.upstream(dubboAnswer(dubboRequest(1n, "echo")));
  assert.equal(quiet.logs.filter((l) => l.message.includes("echo")).length, 0);

  const shared = new SharedState();
  const vm = await worker({
    ...base,
    routingMode: "perRequest",
    routes: [{ destinations: [{ cluster: "outbound|20880|v1|greeter" }] }],
    accessLog: { enabled: true, format: "rpc %SERVICE% %METHOD% #%REQUEST_ID% %STATUS% %DURATION_MS% ms to %CLUSTER% (%REASON%) %UNKNOWN%" },
  }, shared);
  const conn = vm.connect();
  const req = dubboRequest(7n, "echo");
  conn.downstream(Buffer.concat([req, dubboRequest(8n, "adminReset")]));
  shared.advance(12);
  const upstreamFrames = new DubboFrameReader().push(conn.forwarded); // the routed echo and the probe of adminReset
  conn.upstream(Buffer.concat(upstreamFrames.map(dubboAnswer)));
  const lines = vm.logs.filter((l) => l.message.startsWith("rpc ")).map((l) => l.message);
  assert.deepEqual(lines, [
    "rpc org.example.Greeter echo #7 ok 12.000 ms to outbound|20880|v1|greeter (-) %UNKNOWN%",
    "rpc org.example.Greeter adminReset #8 unauthorized 12.000 ms to - (unauthorized) %UNKNOWN%",
  ]);
});

test("byte counters: exact, handed to Envoy's stats on a root's tick (connection open) and when a connection closes", async () => {
  const shared = new SharedState();
  const workers = [await worker(base, shared), await worker(base, shared)];
  const conns = workers.map((w) => w.connect());
  let rx = 0;
  let tx = 0;
  for (let i = 0; i < 5; i++) {
    for (const conn of conns) {
      const req = dubboRequest(BigInt(i + 1), "echo");
      const answer = dubboAnswer(req);
      conn.downstream(req);
      conn.upstream(answer);
      rx += req.length;
      tx += answer.length;
    }
  }
  const bytes = () => {
    const m = workers[0].metrics();
    return { rx: m.meltemi_downstream_rx_bytes_total ?? 0, tx: m.meltemi_downstream_tx_bytes_total ?? 0 };
  };
  // The tick (at least once a second: both workers' roots tick) is the flush point of open connections.
  shared.advance(1000);
  assert.deepEqual(bytes(), { rx, tx }, "after a tick, every byte of the open connections");
  const req = dubboRequest(9n, "echo");
  conns[0].downstream(req);
  conns[0].upstream(dubboAnswer(req));
  conns[0].close(); // a close is a flush point too, before the active-connections gauge drops
  assert.deepEqual(bytes(), { rx: rx + req.length, tx: tx + dubboAnswer(req).length }, "after the close, its bytes too");
  assert.equal(workers[0].metrics().meltemi_active_connections, 1);
});

test("one read whose answers end the same method with different statuses counts each status (one flush per read)", async () => {
  const vm = await worker();
  const conn = vm.connect();
  const reqs = [dubboRequest(1n, "echo"), dubboRequest(2n, "echo"), dubboRequest(3n, "echo")];
  conn.downstream(Buffer.concat(reqs));
  const err = dubboAnswer(reqs[1]);
  err[3] = 70; // SERVICE_ERROR
  conn.upstream(Buffer.concat([dubboAnswer(reqs[0]), err, dubboAnswer(reqs[2])]));
  const view = prometheusView(vm.metrics());
  assert.equal(view.get(key("meltemi_requests_total", labels("echo", "ok"))), 2);
  assert.equal(view.get(key("meltemi_requests_total", labels("echo", "error"))), 1);
});

test("host calls per request pair: one histogram record and one request count per answering read, no byte counter per read", async () => {
  const vm = await WasmHost.load(wasm, { pluginName: "greeter", pluginConfig: JSON.stringify(base), countHostCalls: true });
  const conn = vm.connect();
  const pair = (id: bigint) => {
    const req = dubboRequest(id, "echo");
    conn.downstream(req);
    conn.upstream(dubboAnswer(req));
  };
  pair(1n); // defines the label set's metrics
  vm.hostCalls.clear();
  for (let i = 2n; i < 12n; i++) pair(i);
  assert.equal(vm.hostCalls.get("proxy_increment_metric"), 10, "the request counter, once per answering read");
  assert.equal(vm.hostCalls.get("proxy_record_metric"), 10, "the duration, once per request");
  vm.hostCalls.clear();
  conn.close();
  // The close flushes: the byte counters (rx, tx) and the active-connections gauge.
  assert.equal(vm.hostCalls.get("proxy_increment_metric"), 3);
});
