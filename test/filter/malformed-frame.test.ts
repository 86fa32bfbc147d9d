// A malformed request frame, in the Node host: where the protocol can say why (the codec still reads
// which two-way request it was: Codec.identify), the client gets the protocol's error before the
// connection closes (Thrift: TApplicationException PROTOCOL_ERROR for its seqid and method; Dubbo: a
// BAD_REQUEST response for its id). The reply rides on a probe's answer like every reply the filter
// makes (docs/platform.md), and the connection closes on the root's next tick. Where the frame does
// not say enough (bad magic, a garbage first byte), it closes at once, as before. In the real Envoy
// with real clients: test/envoy/malformed-frame.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WasmHost } from "../host/index";
import { decode } from "../codec/harness";
import { dubboAnswer, dubboRequest } from "../codec/dubbo/frames";
import { HEADER_WIRE, WIRES, encodeWith, thrift, type Wire } from "../codec/thrift/peers";

const wasm = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");
const { MessageType, Type } = thrift.Thrift;
const MAX_FRAME = 256;

function load(protocol: string, mode = "perConnection") {
  const config = {
    version: 1, name: "greeter", protocol, routingMode: mode, limits: { maxFrameBytes: MAX_FRAME },
    routes: [{ name: "all", destinations: [{ cluster: "outbound|9090||greeter" }] }],
  };
  return WasmHost.load(wasm, { pluginName: "greeter", pluginConfig: JSON.stringify(config) });
}

/** A call of `method` whose one string argument is `arg`. */
function thriftCall(wire: Wire, method: string, seqid: number, arg: string): Buffer {
  return encodeWith(wire, (p) => {
    p.writeMessageBegin(method, MessageType.CALL, seqid);
    p.writeStructBegin("args");
    p.writeFieldBegin("name", Type.STRING, 1); p.writeString(arg); p.writeFieldEnd();
    p.writeFieldStop(); p.writeStructEnd();
    p.writeMessageEnd();
  });
}

/** What a Thrift server answers the probe: TApplicationException UNKNOWN_METHOD, same seqid. */
function probeAnswer(wire: Wire, seqid: number): Buffer {
  return encodeWith(wire, (p) => {
    p.writeMessageBegin("meltemi-probe", MessageType.EXCEPTION, seqid);
    p.writeStructBegin("TApplicationException");
    p.writeFieldBegin("message", Type.STRING, 1); p.writeString("Unknown function meltemi-probe"); p.writeFieldEnd();
    p.writeFieldBegin("type", Type.I32, 2); p.writeI32(1); p.writeFieldEnd();
    p.writeFieldStop(); p.writeStructEnd();
    p.writeMessageEnd();
  });
}

/** Reads a Thrift exception reply with the npm library: [name, type, seqid, exception type, message]. */
function readException(wire: Wire, bytes: Buffer): [string, number, number, number, string] {
  let result: [string, number, number, number, string] | undefined;
  const receiver = wire.transport.receiver((transport: unknown) => {
    const p = new wire.protocol(transport);
    const m = p.readMessageBegin();
    const e = new thrift.Thrift.TApplicationException();
    e.read(p);
    p.readMessageEnd();
    result = [m.fname, m.mtype, m.rseqid, e.type, e.message];
  });
  receiver(bytes);
  assert.ok(result, "a whole message");
  return result!;
}

for (const wire of WIRES) {
  test(`thrift ${wire.name}: a call over the frame limit gets PROTOCOL_ERROR for its seqid, then the connection closes`, async () => {
    const vm = await load("thrift");
    const conn = vm.connect();
    conn.downstream(thriftCall(wire, "hello", 5, "ok"));
    conn.upstream(thriftCall(wire, "hello", 5, "ok")); // any answer for seqid 5 (not checked here)
    const before = conn.forwarded.length;
    const r = conn.downstream(thriftCall(wire, "hello", 7, "x".repeat(MAX_FRAME * 2)));
    const probe = await decode("thrift", r.forwarded);
    assert.deepEqual(probe.frames.map((f) => [f.kind, f.requestId, f.metadata.method]), [["request", "7", "meltemi-probe"]],
      "the probe goes up in the oversized call's place, nothing of the call does");
    assert.equal(conn.closed, false, "open until the client has its answer");
    conn.downstream(thriftCall(wire, "hello", 8, "later"));
    assert.equal(conn.forwarded.length, before + r.forwarded.length, "no client byte goes on after the malformed frame");
    const answer = conn.upstream(probeAnswer(wire, 7));
    const [name, type, seqid, exceptionType, message] = readException(wire, answer.written);
    assert.deepEqual([name, type, seqid, exceptionType], ["hello", MessageType.EXCEPTION, 7, 7], "PROTOCOL_ERROR (7) for call 7");
    assert.match(message, /^meltemi: malformed request \(frame_too_large: .*limit\)$/);
    vm.advance(10);
    assert.equal(conn.closedBy, "filter");
    const counted = Object.entries(vm.metrics()).filter(([k]) => k.endsWith("meltemi_decode_errors_total") && k.includes("frame_too_large"));
    assert.deepEqual(counted.map(([, v]) => v), [1], "counted once, by reason");
    assert.equal(vm.failed, false);
  });
}

test("thrift: a call the client sends after the error reply closes the connection at once, not on the root's next tick", async () => {
  const wire = WIRES[0];
  const vm = await load("thrift");
  const conn = vm.connect();
  conn.downstream(thriftCall(wire, "hello", 7, "x".repeat(MAX_FRAME * 2)));
  conn.upstream(probeAnswer(wire, 7));
  assert.equal(conn.closed, false, "the close waits for the next callback or tick: the reply is still on its way");
  const before = conn.forwarded.length;
  conn.downstream(thriftCall(wire, "hello", 8, "too late"));
  assert.equal(conn.closedBy, "filter", "closed from the client's next read, no tick needed");
  assert.equal(conn.forwarded.length, before, "the late call does not go on");
  vm.advance(2_000);
  assert.equal(vm.failed, false);
});

test("thrift THeader: a call over the frame limit gets PROTOCOL_ERROR in THeader", async () => {
  const vm = await load("thrift");
  const conn = vm.connect();
  const r = conn.downstream(thriftCall(HEADER_WIRE, "hello", 11, "x".repeat(MAX_FRAME * 2)));
  assert.deepEqual((await decode("thrift", r.forwarded)).frames.map((f) => [f.requestId, f.metadata.method]), [["11", "meltemi-probe"]]);
  const [name, type, seqid, exceptionType, message] = readException(HEADER_WIRE, conn.upstream(probeAnswer(HEADER_WIRE, 11)).written);
  assert.deepEqual([name, type, seqid, exceptionType], ["hello", MessageType.EXCEPTION, 11, 7]);
  assert.match(message, /^meltemi: malformed request \(frame_too_large: /);
  vm.advance(10);
  assert.equal(conn.closedBy, "filter");
});

test("thrift buffered binary: a call whose struct holds an unknown field type gets PROTOCOL_ERROR", async () => {
  const wire = WIRES.find((w) => w.name === "buffered binary")!;
  const vm = await load("thrift");
  const conn = vm.connect();
  const good = thriftCall(wire, "hello", 3, "ok");
  const bad = Buffer.from(good);
  bad[bad.length - 10] = 0x11; // the string field's type byte (type, id(2), length(4), "ok", stop)
  const r = conn.downstream(bad);
  assert.deepEqual((await decode("thrift", r.forwarded)).frames.map((f) => [f.requestId, f.metadata.method]), [["3", "meltemi-probe"]]);
  const [name, type, seqid, exceptionType, message] = readException(wire, conn.upstream(probeAnswer(wire, 3)).written);
  assert.deepEqual([name, type, seqid, exceptionType], ["hello", MessageType.EXCEPTION, 3, 7]);
  assert.match(message, /^meltemi: malformed request \(malformed: /);
  vm.advance(10);
  assert.equal(conn.closedBy, "filter");
});

test("thrift: a frame that names no call (a garbage first byte) is closed at once, nothing goes up", async () => {
  const vm = await load("thrift");
  const conn = vm.connect();
  const r = conn.downstream(Buffer.from("9001000000000000", "hex"));
  assert.equal(r.forwarded.length, 0);
  assert.equal(conn.closedBy, "filter");
  assert.equal(conn.written.length, 0);
});

/** [status, request id, message] of a Dubbo response. */
function dubboResponse(bytes: Buffer): [number, bigint, string] {
  assert.equal(bytes.readUInt16BE(0), 0xdabb);
  assert.equal(bytes[2] & 0x80, 0, "a response");
  const body = bytes.subarray(16, 16 + bytes.readUInt32BE(12));
  // hessian2 string: a short one (0x00-0x1f length) or 'S' + u16 length.
  const message = body[0] < 0x20 ? body.subarray(1, 1 + body[0]).toString("utf8")
    : body[0] === 0x53 ? body.subarray(3, 3 + body.readUInt16BE(1)).toString("utf8")
      : body.subarray(2, 2 + (((body[0] - 0x30) << 8) | body[1])).toString("utf8");
  return [bytes[3], bytes.readBigInt64BE(4), message];
}

for (const mode of ["perConnection", "perRequest"]) {
  test(`dubbo ${mode}: a request over the frame limit gets BAD_REQUEST (40) for its id, then the connection closes`, async () => {
    const vm = await load("dubbo", mode);
    const conn = vm.connect();
    const r = conn.downstream(dubboRequest(-9n, "greet", {}, "org.example.Greeter", "x".repeat(MAX_FRAME * 2)));
    const probe = await decode("dubbo", r.forwarded);
    assert.deepEqual(probe.frames.map((f) => [f.kind, f.requestId]), [["heartbeat", "-9"]]);
    const answer = conn.upstream(dubboAnswer(r.forwarded));
    assert.deepEqual(dubboResponse(answer.written), [40, -9n, "meltemi: malformed request (frame_too_large: Dubbo frame larger than the limit)"]);
    assert.equal(conn.closed, false);
    vm.advance(10);
    assert.equal(conn.closedBy, "filter");
  });
}

test("dubbo: a request in a serialization other than hessian2 gets BAD_REQUEST", async () => {
  const vm = await load("dubbo");
  const conn = vm.connect();
  const frame = dubboRequest(12n, "greet");
  frame[2] = (frame[2] & ~0x1f) | 6; // serialization id 6 (fastjson)
  const r = conn.downstream(frame);
  const answer = conn.upstream(dubboAnswer(r.forwarded));
  assert.deepEqual(dubboResponse(answer.written), [40, 12n, "meltemi: malformed request (unsupported: Dubbo serialization other than hessian2)"]);
  vm.advance(10);
  assert.equal(conn.closedBy, "filter");
});

test("dubbo: a frame with a bad magic, or a oneway request, is closed at once, nothing goes up", async () => {
  for (const mutate of [(f: Buffer) => { f[0] = 0xca; }, (f: Buffer) => { f[2] &= ~0x40; f[2] = (f[2] & ~0x1f) | 6; }]) {
    const vm = await load("dubbo");
    const conn = vm.connect();
    const frame = dubboRequest(1n, "greet");
    mutate(frame);
    const r = conn.downstream(frame);
    assert.equal(r.forwarded.length, 0);
    assert.equal(conn.closedBy, "filter");
    assert.equal(conn.written.length, 0);
  }
});
