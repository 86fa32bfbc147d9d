// A route's responseMutation, in the Node host: the answer to a request that matched the route carries
// the keys (Dubbo: response attachments, the reply switched to its *_WITH_ATTACHMENTS flag; Thrift:
// THeader headers, for a client that speaks THeader), answers to other routes' requests go unchanged,
// and an answer that cannot carry keys (a framed Thrift client) goes unchanged and is counted.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import hessian from "hessian.js";
import { WasmHost } from "../host/index";
import { decode } from "../codec/harness";
import { asHeader } from "../codec/thrift/harness";
import { WIRES, encodeWith, thrift } from "../codec/thrift/peers";
import { prometheusView, sumOf } from "../support/stats_tags";
import { dubboAnswer, dubboRequest } from "../codec/dubbo/frames";

const wasm = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");

function routes(protocol: string) {
  return {
    version: 1,
    name: "greeter",
    protocol,
    routingMode: "perConnection",
    routes: [
      { name: "greet", match: { method: { exact: "greet" } }, destinations: [{ cluster: "v2" }], responseMutation: [{ key: "x-served-via", value: "meltemi" }, { key: "x-route", value: "greet" }] },
      { name: "rest", destinations: [{ cluster: "v1" }] },
    ],
  };
}

/** Splits a byte stream into its frames with the filter's own decoder. */
async function frames(protocol: string, bytes: Buffer): Promise<Buffer[]> {
  const decoded = await decode(protocol, bytes);
  assert.equal(decoded.error, "");
  let at = 0;
  return decoded.frames.map((f) => { const b = bytes.subarray(at, at + f.frameLength); at += f.frameLength; return b; });
}

test("Dubbo: the answers to the route's requests carry its response mutation as attachments; the others are unchanged", async () => {
  const worker = await WasmHost.load(wasm, { pluginName: "greeter", pluginConfig: JSON.stringify(routes("dubbo")) });
  const conn = worker.connect();
  conn.downstream(Buffer.concat([dubboRequest(1n, "greet"), dubboRequest(2n, "other"), dubboRequest(3n, "greet")]));
  const sent = await frames("dubbo", conn.forwarded);
  const answers = sent.map(dubboAnswer);
  // The answers come back out of order, in one piece.
  conn.upstream(Buffer.concat([answers[2], answers[1], answers[0]]));

  const back = await decode("dubbo", conn.written);
  assert.equal(back.error, "");
  assert.deepEqual(back.frames.map((f) => [f.requestId, f.kind, f.metadata["x-served-via"] ?? "", f.metadata["x-route"] ?? ""]), [
    ["3", "response", "meltemi", "greet"],
    ["2", "response", "", ""],
    ["1", "response", "meltemi", "greet"],
  ]);
  const written = await frames("dubbo", conn.written);
  assert.deepEqual(written[1], answers[1], "an answer of another route goes byte for byte");
  // An independent hessian2 reader (hessian.js) reads the mutated body: flag 4 (value with attachments),
  // the value, then the attachments.
  const body = new hessian.DecoderV2(written[0].subarray(16));
  assert.equal(body.read(), 4);
  assert.equal(body.read(), "hello");
  assert.deepEqual(body.read(), { "x-served-via": "meltemi", "x-route": "greet" });
  assert.equal(sumOf(prometheusView(worker.metrics()), "meltemi_response_mutation_failures_total"), 0);
});

function thriftCall(wire: (typeof WIRES)[number], method: string, seqid: number): Buffer {
  return encodeWith(wire, (p) => {
    p.writeMessageBegin(method, thrift.Thrift.MessageType.CALL, seqid);
    p.writeStructBegin("args"); p.writeFieldStop(); p.writeStructEnd();
    p.writeMessageEnd();
  });
}

function thriftReply(wire: (typeof WIRES)[number], method: string, seqid: number): Buffer {
  return encodeWith(wire, (p) => {
    p.writeMessageBegin(method, thrift.Thrift.MessageType.REPLY, seqid);
    p.writeStructBegin("result");
    p.writeFieldBegin("success", thrift.Thrift.Type.STRING, 0); p.writeString("hi"); p.writeFieldEnd();
    p.writeFieldStop(); p.writeStructEnd();
    p.writeMessageEnd();
  });
}

test("Thrift, a THeader client: the answer of the route carries its response mutation as THeader headers", async () => {
  const worker = await WasmHost.load(wasm, { pluginName: "greeter", pluginConfig: JSON.stringify(routes("thrift")) });
  const conn = worker.connect();
  const framed = WIRES[0];
  const request = await asHeader(thriftCall(framed, "greet", 5), { "x-client": "1" });
  conn.downstream(request);
  assert.deepEqual(conn.forwarded, request, "no request mutation: the request goes as it is");
  const reply = await asHeader(thriftReply(framed, "greet", 5), { "x-upstream": "u" });
  conn.upstream(reply);
  const back = await decode("thrift", conn.written);
  assert.equal(back.error, "");
  assert.deepEqual(back.frames.map((f) => [f.kind, f.requestId, f.metadata]), [
    ["response", "5", { "x-upstream": "u", "x-served-via": "meltemi", "x-route": "greet", method: "greet" }],
  ]);
  assert.equal(sumOf(prometheusView(worker.metrics()), "meltemi_response_mutation_failures_total"), 0);
});

test("Thrift, a framed client: its wire has no place for keys, the answer goes unchanged and is counted", async () => {
  const worker = await WasmHost.load(wasm, { pluginName: "greeter", pluginConfig: JSON.stringify(routes("thrift")) });
  const conn = worker.connect();
  const framed = WIRES[0];
  conn.downstream(Buffer.concat([thriftCall(framed, "greet", 1), thriftCall(framed, "other", 2)]));
  const replies = [thriftReply(framed, "greet", 1), thriftReply(framed, "other", 2)];
  conn.upstream(Buffer.concat(replies));
  assert.deepEqual(conn.written, Buffer.concat(replies));
  const view = prometheusView(worker.metrics());
  assert.equal(sumOf(view, "meltemi_response_mutation_failures_total"), 1, "only the answer of the mutating route");
  assert.equal(sumOf(view, "meltemi_requests_total", { rpc_status: "ok" }), 2);
});
