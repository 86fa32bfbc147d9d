// Tracing on Thrift in the Node host: a THeader client's headers carry the context in and out; a
// framed client (no headers) gets a span but its request is not converted to THeader for tracing.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WasmHost } from "../host/index";
import { decode } from "../codec/harness";
import { asHeader } from "../codec/thrift/harness";
import { WIRES, encodeWith, thrift } from "../codec/thrift/peers";

const wasm = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");
const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";

function thriftCall(method: string, seqid: number): Buffer {
  return encodeWith(WIRES[0], (p) => {
    p.writeMessageBegin(method, thrift.Thrift.MessageType.CALL, seqid);
    p.writeStructBegin("args"); p.writeFieldStop(); p.writeStructEnd();
    p.writeMessageEnd();
  });
}

function thriftReply(method: string, seqid: number): Buffer {
  return encodeWith(WIRES[0], (p) => {
    p.writeMessageBegin(method, thrift.Thrift.MessageType.REPLY, seqid);
    p.writeStructBegin("result"); p.writeFieldStop(); p.writeStructEnd();
    p.writeMessageEnd();
  });
}

async function worker() {
  const config = { version: 1, name: "echo", protocol: "thrift", randomSeed: 3, tracing: { collectorCluster: "zipkin", samplingPercentage: 100 } };
  return WasmHost.load(wasm, { pluginName: "echo", pluginConfig: JSON.stringify(config), clusters: ["zipkin"] });
}

test("Thrift THeader: traceparent read from the headers, the forwarded request carries Meltemi's span as parent", async () => {
  const vm = await worker();
  const conn = vm.connect();
  conn.downstream(await asHeader(thriftCall("ping", 9), { traceparent: `00-${TRACE}-${PARENT}-01`, "x-client": "c" }));
  const up = await decode("thrift", Buffer.from(conn.forwarded));
  assert.equal(up.error, "");
  const md = up.frames[0].metadata as Record<string, string>;
  assert.equal(md["x-client"], "c");
  const [, trace, span, flags] = md.traceparent.split("-");
  assert.deepEqual([trace, flags], [TRACE, "01"]);
  conn.upstream(await asHeader(thriftReply("ping", 9), {}));
  vm.advance(1000);
  const spans = JSON.parse(vm.httpCalls[0].body.toString());
  assert.equal(spans.length, 1);
  assert.deepEqual([spans[0].traceId, spans[0].parentId, spans[0].id, spans[0].name, spans[0].tags["meltemi.status"]], [TRACE, PARENT, span, "ping", "ok"]);
});

test("Thrift framed: a span, but the request goes as it is (not converted to THeader for tracing)", async () => {
  const vm = await worker();
  const conn = vm.connect();
  const req = thriftCall("ping", 1);
  conn.downstream(req);
  assert.deepEqual(Buffer.from(conn.forwarded), req);
  assert.equal(vm.metrics()["meltemi_trace_spans_sampled_total"], 1);
});
