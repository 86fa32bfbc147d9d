// Tracing in the Node host: the caller's context read from Dubbo attachments (W3C, B3 single, B3 multi),
// continued, forwarded in the caller's formats; sampling by the configured rate with a seeded draw;
// spans exported as Zipkin v2 JSON with proxy_http_call from the root's tick; bounded when the
// collector is slow or down. The real Envoy and Zipkin: test/envoy/tracing-zipkin.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import hessian from "hessian.js";
import { SharedState, WasmHost } from "../host/index";
import { DubboFrameReader, dubboAnswer, dubboRequest } from "../codec/dubbo/frames";

const wasm = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");
const COLLECTOR = "zipkin";

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";

function config(tracing: object | null, extra: object = {}) {
  return { version: 1, name: "greeter", protocol: "dubbo", randomSeed: 7, ...(tracing ? { tracing } : {}), ...extra };
}

async function worker(cfg: object, direction = 2, shared = new SharedState()) {
  return WasmHost.load(wasm, {
    shared, pluginName: "greeter", pluginConfig: JSON.stringify(cfg), clusters: [COLLECTOR],
    properties: { "xds\0listener_direction": direction },
  });
}

/** The attachments of a Dubbo request as hessian.js (an independent reader) sees them. */
function attachmentsOf(frame: Buffer): Record<string, unknown> {
  const d = new hessian.DecoderV2(frame.subarray(16));
  for (let i = 0; i < 5; i++) d.read(); // dubbo version, path, version, method, parameter types
  d.read(); // the one String argument
  return d.read() as Record<string, unknown>;
}

type ZipkinSpan = {
  traceId: string; id: string; parentId?: string; kind?: string; name: string; timestamp: number; duration?: number;
  localEndpoint: { serviceName: string }; tags: Record<string, string>;
};

/** One round trip: the request forwarded (what the upstream got) and answered. */
function call(vm: WasmHost, req: Buffer): Buffer {
  const conn = vm.connect();
  conn.downstream(req);
  const forwarded = Buffer.from(conn.forwarded);
  vm.advance(3);
  conn.upstream(dubboAnswer(req));
  conn.close();
  return forwarded;
}

/** Advances to the next export and returns its spans (answering the call with `status`). */
function exported(vm: WasmHost, status = 202): ZipkinSpan[] {
  const before = vm.httpCalls.length;
  vm.advance(1000);
  assert.equal(vm.httpCalls.length, before + 1, "one export per tick");
  const c = vm.httpCalls[before];
  vm.respondHttpCall(c.token, { status });
  return JSON.parse(c.body.toString());
}

test("W3C traceparent: the span continues the caller's trace; the upstream gets Meltemi's span as parent", async () => {
  const vm = await worker(config({ collectorCluster: COLLECTOR, samplingPercentage: 0 }));
  const tp = `00-${TRACE}-${PARENT}-01`;
  const fwd = call(vm, dubboRequest(1n, "echo", { traceparent: tp, tracestate: "congo=t61rcWkgMzE" }));
  const att = attachmentsOf(fwd);
  const [, trace, span, flags] = String(att.traceparent).split("-");
  assert.equal(trace, TRACE);
  assert.equal(flags, "01");
  assert.notEqual(span, PARENT);
  assert.equal(att.tracestate, "congo=t61rcWkgMzE", "tracestate rides along");
  assert.equal(att.b3, undefined, "only the caller's formats are written");

  const spans = exported(vm);
  assert.equal(spans.length, 1);
  const s = spans[0];
  assert.equal(s.traceId, TRACE);
  assert.equal(s.parentId, PARENT);
  assert.equal(s.id, span);
  assert.equal(s.kind, "CLIENT"); // outbound listener
  assert.equal(s.name, "org.example.Greeter/echo");
  assert.equal(s.localEndpoint.serviceName, "greeter");
  assert.equal(s.duration, 3000);
  assert.equal(s.timestamp, Date.UTC(2024, 0, 1) * 1000);
  assert.deepEqual(
    { ...s.tags },
    { "rpc.system": "dubbo", "rpc.service": "org.example.Greeter", "rpc.method": "echo", "meltemi.request_id": "1", "meltemi.status": "ok" },
  );
  assert.equal(vm.metrics()["meltemi_trace_spans_reported_total"], 1);
  const call0 = vm.httpCalls[0];
  assert.deepEqual(Object.fromEntries(call0.headers), {
    ":method": "POST", ":path": "/api/v2/spans", ":authority": COLLECTOR, "content-type": "application/json",
  });
});

test("B3 multi (Brave's X-B3-* keys) and B3 single: continued, written back under the caller's keys", async () => {
  const vm = await worker(config({ collectorCluster: COLLECTOR, samplingPercentage: 0 }), 1);
  const multi = attachmentsOf(call(vm, dubboRequest(2n, "echo", {
    "X-B3-TraceId": TRACE, "X-B3-SpanId": PARENT, "X-B3-ParentSpanId": "1111111111111111", "X-B3-Sampled": "1",
  })));
  assert.equal(multi["X-B3-TraceId"], TRACE);
  assert.equal(multi["X-B3-ParentSpanId"], PARENT);
  assert.equal(multi["X-B3-Sampled"], "1");
  assert.match(String(multi["X-B3-SpanId"]), /^[0-9a-f]{16}$/);
  assert.equal(Object.keys(multi).filter((k) => k.toLowerCase() === "x-b3-spanid").length, 1);

  const short = "a3ce929d0e0e4736";
  const single = attachmentsOf(call(vm, dubboRequest(3n, "echo", { b3: `${short}-${PARENT}-1` })));
  const [t, sp, sampled, parent] = String(single.b3).split("-");
  assert.deepEqual([t, sampled, parent], [short, "1", PARENT]);

  const spans = exported(vm);
  assert.deepEqual(spans.map((s) => [s.traceId, s.parentId, s.kind]), [[TRACE, PARENT, "SERVER"], [short, PARENT, "SERVER"]]);
  assert.equal(spans[0].id, multi["X-B3-SpanId"]);
  assert.equal(spans[1].id, sp);
});

test("lowercase B3 keys are read, and the missing parent key is added in the same case", async () => {
  const vm = await worker(config({ collectorCluster: COLLECTOR, samplingPercentage: 0 }));
  const att = attachmentsOf(call(vm, dubboRequest(4n, "echo", { "x-b3-traceid": TRACE, "x-b3-spanid": PARENT })));
  // No sampled key: the decision is deferred to Meltemi, whose rate is 0: not traced, not changed.
  assert.deepEqual(Object.keys(att).filter((k) => k.startsWith("x-b3")).sort(), ["x-b3-spanid", "x-b3-traceid"]);
  assert.equal(att["x-b3-spanid"], PARENT);
  const vm2 = await worker(config({ collectorCluster: COLLECTOR, samplingPercentage: 100 }));
  const att2 = attachmentsOf(call(vm2, dubboRequest(5n, "echo", { "x-b3-traceid": TRACE, "x-b3-spanid": PARENT })));
  assert.equal(att2["x-b3-parentspanid"], PARENT);
  assert.equal(att2["x-b3-sampled"], "1");
  assert.equal(att2["X-B3-ParentSpanId"], undefined);
});

test("the caller's no (sampled flag 0, X-B3-Sampled 0) wins over a 100% rate: no span, not a byte changed", async () => {
  const vm = await worker(config({ collectorCluster: COLLECTOR, samplingPercentage: 100 }));
  for (const att of [{ traceparent: `00-${TRACE}-${PARENT}-00` }, { "X-B3-TraceId": TRACE, "X-B3-SpanId": PARENT, "X-B3-Sampled": "0" }, { b3: "0" }]) {
    const req = dubboRequest(6n, "echo", att);
    assert.deepEqual(call(vm, req), req);
  }
  vm.advance(1000);
  assert.equal(vm.httpCalls.length, 0);
  assert.equal(vm.metrics()["meltemi_trace_spans_sampled_total"] ?? 0, 0);
});

test("no context: a new trace at the configured rate (seeded draws), forwarded as traceparent", async () => {
  const vm = await worker(config({ collectorCluster: COLLECTOR, samplingPercentage: 30 }));
  let traced = 0;
  const n = 200;
  for (let i = 0; i < n; i++) {
    const req = dubboRequest(BigInt(100 + i), "echo");
    const fwd = call(vm, req);
    const tp = attachmentsOf(fwd).traceparent;
    if (tp === undefined) assert.deepEqual(fwd, req, "an unsampled request is not changed");
    else { traced++; assert.match(String(tp), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/); }
  }
  // 30% of 200 draws; seeded, so the count is the same every run (and within any sane binomial range).
  assert.ok(traced > 30 && traced < 90, `${traced} of ${n} traced`);
  const spans = exported(vm);
  assert.equal(spans.length, traced);
  assert.ok(spans.every((s) => s.parentId === undefined));
  // The same seed draws the same sequence.
  const again = await worker(config({ collectorCluster: COLLECTOR, samplingPercentage: 30 }));
  let traced2 = 0;
  for (let i = 0; i < n; i++) if (attachmentsOf(call(again, dubboRequest(BigInt(100 + i), "echo"))).traceparent !== undefined) traced2++;
  assert.equal(traced2, traced);
});

test("tracing off: not one byte of a request with a trace context changes, and no call is made", async () => {
  const vm = await worker(config(null));
  const req = dubboRequest(7n, "echo", { traceparent: `00-${TRACE}-${PARENT}-01` });
  assert.deepEqual(call(vm, req), req);
  vm.advance(2000);
  assert.equal(vm.httpCalls.length, 0);
  assert.equal(vm.metrics()["meltemi_trace_spans_sampled_total"], undefined);
});

test("a rejected request is a span with its verdict and the error tag; route and cluster are recorded", async () => {
  const vm = await worker(config({ collectorCluster: COLLECTOR, samplingPercentage: 100 }, {
    routes: [{ name: "to-v1", match: { method: { exact: "echo" } }, destinations: [{ cluster: "greeter-v1" }] }],
  }));
  const conn = vm.connect();
  conn.downstream(Buffer.concat([dubboRequest(8n, "echo"), dubboRequest(9n, "nope")]));
  // The second is rejected (no route): a probe (heartbeat) goes up in its place; the upstream answers both.
  const frames = new DubboFrameReader().push(Buffer.from(conn.forwarded));
  assert.equal(frames.length, 2);
  conn.upstream(Buffer.concat(frames.map((f) => dubboAnswer(f))));
  conn.close();
  const spans = exported(vm);
  const byMethod = Object.fromEntries(spans.map((s) => [s.tags["rpc.method"], s.tags]));
  assert.equal(byMethod.echo["meltemi.route"], "to-v1");
  assert.equal(byMethod.echo["upstream_cluster"], "greeter-v1");
  assert.equal(byMethod.echo.error, undefined);
  assert.equal(byMethod.nope["meltemi.status"], "no_route");
  assert.equal(byMethod.nope.error, "no_route");
});

test("collector down or slow: spans dropped and counted, memory bounded, requests unaffected", async () => {
  const vm = await worker(config({ collectorCluster: COLLECTOR, samplingPercentage: 100, maxBufferedSpans: 10, maxSpansPerBatch: 4, timeoutMs: 1000 }));
  for (let i = 0; i < 6; i++) call(vm, dubboRequest(BigInt(200 + i), "echo"));
  vm.advance(1000);
  assert.equal(vm.httpCalls.length, 1);
  assert.equal(JSON.parse(vm.httpCalls[0].body.toString()).length, 4);
  // The collector does not answer: one call in flight at most, the rest waits, then overflows.
  for (let i = 0; i < 20; i++) {
    const req = dubboRequest(BigInt(300 + i), "echo");
    const conn = vm.connect();
    conn.downstream(req);
    conn.upstream(dubboAnswer(req));
    assert.equal(conn.written.length, dubboAnswer(req).length, "the client gets its answer");
    conn.close();
  }
  vm.advance(1000);
  assert.equal(vm.httpCalls.length, 1, "no second export while one is in flight");
  const m = vm.metrics();
  assert.equal(m['reason=.=buffer_full;.;meltemi_trace_spans_dropped_total'], 2 + 20 - 10);
  // It fails (timeout): its batch is dropped and counted; the next goes out.
  vm.respondHttpCall(vm.httpCalls[0].token, "failure");
  assert.equal(vm.metrics()['reason=.=export_failed;.;meltemi_trace_spans_dropped_total'], 4);
  assert.equal(vm.metrics()["meltemi_trace_exports_failed_total"], 1);
  vm.advance(1000);
  assert.equal(vm.httpCalls.length, 2);
  vm.respondHttpCall(vm.httpCalls[1].token, { status: 503 });
  assert.equal(vm.metrics()['reason=.=export_failed;.;meltemi_trace_spans_dropped_total'], 8);
  assert.ok(vm.logs.some((l) => l.message.includes("span export failed: the collector answered 503")));
});

test("an unknown collector cluster: the export is refused by the host, counted, requests go on", async () => {
  const vm = await worker(config({ collectorCluster: "no-such-cluster", samplingPercentage: 100 }));
  const req = dubboRequest(10n, "echo");
  assert.notDeepEqual(call(vm, req), req);
  vm.advance(1000);
  assert.equal(vm.httpCalls.length, 0);
  assert.equal(vm.metrics()['reason=.=export_failed;.;meltemi_trace_spans_dropped_total'], 1);
  assert.ok(vm.logs.some((l) => l.message.includes("proxy_http_call to cluster no-such-cluster refused")));
});

test("format otlp: the batch is an OTLP/HTTP JSON ExportTraceServiceRequest posted to /v1/traces", async () => {
  const vm = await worker(config({ collectorCluster: COLLECTOR, format: "otlp", samplingPercentage: 0 }), 1);
  call(vm, dubboRequest(11n, "echo", { b3: `a3ce929d0e0e4736-${PARENT}-1` }));
  vm.advance(1000);
  const c = vm.httpCalls[0];
  assert.equal(Object.fromEntries(c.headers)[":path"], "/v1/traces");
  const body = JSON.parse(c.body.toString());
  const rs = body.resourceSpans[0];
  assert.deepEqual(rs.resource.attributes, [{ key: "service.name", value: { stringValue: "greeter" } }]);
  const [s] = rs.scopeSpans[0].spans;
  assert.equal(s.traceId, "0000000000000000a3ce929d0e0e4736", "OTLP trace ids are 32 hex digits");
  assert.equal(s.parentSpanId, PARENT);
  assert.equal(s.kind, 2); // SPAN_KIND_SERVER on an inbound listener
  assert.equal(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano), 3_000_000n);
  assert.equal(s.status, undefined);
  assert.ok(s.attributes.some((a: { key: string; value: { stringValue: string } }) => a.key === "rpc.method" && a.value.stringValue === "echo"));
  vm.respondHttpCall(c.token, { status: 200 });
  assert.equal(vm.metrics()["meltemi_trace_spans_reported_total"], 1);
});

test("tracing turned off by a new configuration: the spans still open and the buffered ones are not exported", async () => {
  const vm = await worker(config({ collectorCluster: COLLECTOR, samplingPercentage: 100 }));
  call(vm, dubboRequest(20n, "echo")); // finished: buffered
  const conn = vm.connect();
  const open = dubboRequest(21n, "echo");
  conn.downstream(open); // decided, not answered yet
  assert.equal(vm.configure(JSON.stringify(config(null))), true);
  conn.upstream(dubboAnswer(open));
  vm.advance(2000);
  assert.equal(vm.httpCalls.length, 0);
  const req = dubboRequest(22n, "echo", { traceparent: `00-${TRACE}-${PARENT}-01` });
  assert.deepEqual(call(vm, req), req, "off: the request goes on unchanged");
});
