// The error reply Meltemi writes for a Thrift request (a TApplicationException in the request's own
// transport and protocol) is what a real Apache Thrift client surfaces for its pending call, with
// Meltemi's message and the documented exception type per ErrorKind; and it is byte for byte what the
// Thrift library itself writes for the same exception.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decode, encodeError, ErrorKind, heartbeatReply } from "./harness";
import { asHeader, probe } from "./thrift/harness";
import { HEADER_WIRE, WIRES, call, connect, encodeWith, generated, sendFrame, startScripted, startServer, thrift } from "./thrift/peers";

/** TApplicationException.type per ErrorKind (filter/codec/thrift/app_exception.ts). */
const EXPECTED_TYPE: Record<ErrorKind, number> = {
  [ErrorKind.OverLimit]: 6, // INTERNAL_ERROR
  [ErrorKind.Unauthorized]: 0, // UNKNOWN
  [ErrorKind.FaultAbort]: 6, // INTERNAL_ERROR
  [ErrorKind.NoRoute]: 1, // UNKNOWN_METHOD
  [ErrorKind.BadRequest]: 7, // PROTOCOL_ERROR
};
const KINDS = [ErrorKind.OverLimit, ErrorKind.Unauthorized, ErrorKind.FaultAbort, ErrorKind.NoRoute, ErrorKind.BadRequest];
const messageFor = (kind: ErrorKind): string => `meltemi: rejected (${ErrorKind[kind]}) ✓`;

interface AppError { name?: string; message?: string; type?: number }

for (const wire of WIRES) {
  test(`${wire.name}: a real client surfaces Meltemi's error reply for its pending call`, { timeout: 60_000 }, async (t) => {
    const { Greeter, Calculator } = generated();
    // A peer that answers the i-th request with an error reply of the i-th kind.
    let answered = 0;
    const peer = await startScripted(async (frame, f) => {
      if (f.kind !== "request") return null;
      const kind = KINDS[answered++ % KINDS.length];
      const reply = await encodeError("thrift", frame, kind, messageFor(kind));
      const decoded = await decode("thrift", reply);
      assert.equal(decoded.error, "");
      assert.deepEqual(decoded.frames.map((x) => [x.kind, x.requestId, x.metadata.method, x.frameLength]),
        [["error", f.requestId, f.metadata.method, reply.length]]);
      return reply;
    });
    t.after(() => peer.close());
    const client = connect(peer.port, wire);
    t.after(() => client.close());
    const greeter = client.client(Greeter);
    const calculator = client.client(Calculator, "Calculator");

    const calls = KINDS.map((_, i) => call<string>((cb) => greeter.hello(`call ${i}`, cb)));
    for (let i = 0; i < KINDS.length; i++) {
      await assert.rejects(calls[i], (e: AppError) => {
        assert.ok(e instanceof thrift.Thrift.TApplicationException, `a TApplicationException, got ${e?.name}`);
        assert.equal(e.message, messageFor(KINDS[i]));
        assert.equal(e.type, EXPECTED_TYPE[KINDS[i]]);
        return true;
      });
    }
    // A multiplexed call ("Calculator:add"): the reply names the bare method, so the multiplexed
    // client of that service gets it.
    await assert.rejects(call<number>((cb) => calculator.add(1, 2, cb)), (e: AppError) =>
      e instanceof thrift.Thrift.TApplicationException && e.message === messageFor(KINDS[0]) && e.type === 6);
    assert.deepEqual(client.errors, []);
  });

  test(`${wire.name}: the error reply is byte for byte what the Thrift library writes`, async () => {
    const seqid = 0x7ffffff0;
    const request = encodeWith(wire, (p) => {
      p.writeMessageBegin("hello", thrift.Thrift.MessageType.CALL, seqid);
      p.writeStructBegin("args"); p.writeFieldStop(); p.writeStructEnd();
      p.writeMessageEnd();
    });
    for (const kind of KINDS) {
      // The library's TApplicationException.write drops the type (see peers.ts), so the reference
      // writes the struct field by field with the library's protocol.
      const expected = encodeWith(wire, (p) => {
        p.writeMessageBegin("hello", thrift.Thrift.MessageType.EXCEPTION, seqid);
        p.writeStructBegin("TApplicationException");
        p.writeFieldBegin("message", thrift.Thrift.Type.STRING, 1); p.writeString(messageFor(kind)); p.writeFieldEnd();
        p.writeFieldBegin("type", thrift.Thrift.Type.I32, 2); p.writeI32(EXPECTED_TYPE[kind]); p.writeFieldEnd();
        p.writeFieldStop(); p.writeStructEnd();
        p.writeMessageEnd();
      });
      const actual = await encodeError("thrift", request, kind, messageFor(kind));
      assert.equal(actual.toString("hex"), expected.toString("hex"), ErrorKind[kind]);
    }
  });
}

for (const wire of WIRES) {
  test(`${wire.name}: real servers answer the probe with an exception of the same seqid`, { timeout: 60_000 }, async (t) => {
    const plain = await startServer(wire);
    t.after(() => plain.close());
    const multiplexed = await startServer(wire, { multiplexed: true });
    t.after(() => multiplexed.close());
    const headerServer = await startServer(HEADER_WIRE);
    t.after(() => headerServer.close());
    const cases: [string, number, number][] = [["hello", -5, plain.port], ["Calculator:add", 77, multiplexed.port], ["hello", 9, headerServer.port]];
    for (const [name, seqid, port] of cases) {
      let request = encodeWith(wire, (p) => {
        p.writeMessageBegin(name, thrift.Thrift.MessageType.CALL, seqid);
        p.writeStructBegin("args"); p.writeFieldStop(); p.writeStructEnd();
        p.writeMessageEnd();
      });
      if (port === headerServer.port) request = await asHeader(request, { "x-meltemi": "1" });
      const probeFrame = await probe(request);
      const decodedProbe = await decode("thrift", probeFrame);
      assert.deepEqual(decodedProbe.frames.map((f) => [f.kind, f.requestId, f.metadata]),
        [["request", String(seqid), name.includes(":") ? { service: "Calculator", method: "meltemi-probe" } : { method: "meltemi-probe" }]]);
      const answer = await sendFrame(port, probeFrame, true);
      const decoded = await decode("thrift", answer!);
      assert.equal(decoded.error, "");
      // TApplicationException UNKNOWN_METHOD, same seqid: the filter turns it into the error reply.
      assert.deepEqual(decoded.frames.map((f) => [f.kind, f.requestId, f.metadata.method]), [["error", String(seqid), "meltemi-probe"]]);
    }
  });
}

test("Thrift has no heartbeats: the heartbeat reply is empty", async () => {
  const request = encodeWith(WIRES[0], (p) => {
    p.writeMessageBegin("ping", thrift.Thrift.MessageType.CALL, 1);
    p.writeStructBegin("args"); p.writeFieldStop(); p.writeStructEnd();
    p.writeMessageEnd();
  });
  assert.equal((await heartbeatReply("thrift", request)).length, 0);
});
