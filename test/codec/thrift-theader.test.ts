// THeader: the one place a Thrift frame carries key/values, and what Envoy's thrift_proxy routes on.
// A request Meltemi mutates is converted to THeader (the client's own transport has no headers); a
// real THeader server (npm thrift: THeaderProtocol over TBufferedTransport) must serve it and see the
// headers; its THeader reply, converted back by the codec, must reach the real client as if the
// client's own kind of server had answered: byte for byte the same reply.
import { test } from "node:test";
import assert from "node:assert/strict";
import { decode, encodeError, encodeMutated, ErrorKind } from "./harness";
import { asHeader, forClient } from "./thrift/harness";
import { HEADER_WIRE, WIRES, call, connect, generated, sampleItem, sendFrame, startScripted, startServer, thrift } from "./thrift/peers";
import { until } from "../wait";

const isTHeader = (frame: Buffer): boolean => frame.length >= 6 && frame.readUInt16BE(4) === 0x0fff;

interface Exchange { request: Buffer; mutated: Buffer; reply: Buffer | null; back: Buffer | null }

/**
 * What Meltemi does in front of Envoy's thrift_proxy, with a real THeader server in Envoy's place:
 * each request is mutated (so converted to THeader) and forwarded; each reply is converted back.
 */
async function startMeltemiLike(upstreamPort: number, headers: Record<string, string>) {
  const exchanges: Exchange[] = [];
  const peer = await startScripted(async (frame, f) => {
    const mutated = await encodeMutated("thrift", frame, headers);
    const ex: Exchange = { request: frame, mutated, reply: null, back: null };
    exchanges.push(ex);
    if (f.kind === "oneway") { await sendFrame(upstreamPort, mutated, false); return null; }
    ex.reply = await sendFrame(upstreamPort, mutated, true);
    ex.back = await forClient(ex.reply!, frame);
    return ex.back;
  });
  return { ...peer, exchanges };
}

const HEADERS = { "x-meltemi-route": "canary", tenant: "t-1" };

for (const wire of WIRES) {
  test(`${wire.name}: mutated requests go to a real THeader server as THeader; replies come back as ${wire.name}`, { timeout: 60_000 }, async (t) => {
    const { Greeter, types } = generated();
    const headerServer = await startServer(HEADER_WIRE);
    t.after(() => headerServer.close());
    const plainServer = await startServer(wire);
    t.after(() => plainServer.close());
    const meltemi = await startMeltemiLike(headerServer.port, HEADERS);
    t.after(() => meltemi.close());
    const client = connect(meltemi.port, wire);
    t.after(() => client.close());
    const greeter = client.client(Greeter);

    // One at a time, so each reply maps to its request in `exchanges`.
    assert.equal(await call<string>((cb) => greeter.hello("world", cb)), "hello world");
    assert.equal((await call<{ id: number }>((cb) => greeter.echo(sampleItem(3), cb))).id, 4);
    await assert.rejects(call((cb) => greeter.echo(new types.Item({ id: -7 }), cb)), (e: { message?: string }) => e.message === "no item -7");
    await assert.rejects(call((cb) => greeter.boom("kaput", cb)), (e: { message?: string }) => e.message === "kaput");
    greeter.notify("through THeader", () => {});
    await until("the oneway call at the THeader server", () => headerServer.notes.includes("through THeader"));
    assert.deepEqual(client.errors, []);

    // The THeader server read Meltemi's headers on every request.
    assert.deepEqual(headerServer.headersSeen, Array(5).fill(HEADERS));
    assert.equal(meltemi.exchanges.length, 5);
    for (const ex of meltemi.exchanges) {
      assert.ok(isTHeader(ex.mutated), "converted to THeader");
      const [req] = (await decode("thrift", ex.request)).frames;
      const mutated = await decode("thrift", ex.mutated);
      assert.equal(mutated.error, "");
      assert.deepEqual(mutated.frames.map((f) => [f.kind, f.requestId, f.metadata]),
        [[req.kind, req.requestId, { ...HEADERS, ...req.metadata }]]);
      // An empty mutation leaves the frame as it was, byte for byte.
      assert.deepEqual(await encodeMutated("thrift", ex.request, {}), ex.request);
      if (ex.reply === null) continue;
      assert.ok(isTHeader(ex.reply), "the server answered a THeader request in THeader");
      const reply = await decode("thrift", ex.reply);
      assert.equal(reply.error, "");
      assert.equal(reply.frames[0].requestId, req.requestId);
      // Converted back: exactly what a server of the client's own transport and protocol answers.
      const reference = await sendFrame(plainServer.port, ex.request, true);
      assert.equal(ex.back!.toString("hex"), reference!.toString("hex"));
    }

    // A stream of converted frames decodes the same at every split point.
    const stream = Buffer.concat(meltemi.exchanges.map((ex) => ex.mutated));
    const whole = await decode("thrift", stream);
    assert.equal(whole.error, "");
    assert.equal(whole.frames.length, 5);
    for (let i = 1; i < stream.length; i++) assert.deepEqual(await decode("thrift", stream, [i]), whole, `split at ${i}`);
  });

  test(`${wire.name}: a request converted to THeader without headers is served too`, { timeout: 60_000 }, async (t) => {
    const { Greeter } = generated();
    const headerServer = await startServer(HEADER_WIRE);
    t.after(() => headerServer.close());
    let converted: Buffer | null = null;
    const peer = await startScripted(async (frame) => {
      converted = await asHeader(frame);
      const reply = await sendFrame(headerServer.port, converted, true);
      return forClient(reply!, frame);
    });
    t.after(() => peer.close());
    const client = connect(peer.port, wire);
    t.after(() => client.close());
    assert.equal(await call<string>((cb) => client.client(Greeter).hello("bare", cb)), "hello bare");
    assert.ok(isTHeader(converted!));
    assert.deepEqual(headerServer.headersSeen, [{}]);
  });
}

test("THeader headers are overwritten and added; a real THeader server sees the result", { timeout: 60_000 }, async (t) => {
  const headerServer = await startServer(HEADER_WIRE);
  t.after(() => headerServer.close());
  const request = Buffer.from("800100010000000568656c6c6f000000070b000100000003626f6200", "hex"); // hello("bob"), seqid 7
  const first = await encodeMutated("thrift", request, { a: "1", b: "2" });
  const second = await encodeMutated("thrift", first, { b: "three", c: "4" });
  const decoded = await decode("thrift", second);
  assert.equal(decoded.error, "");
  // Existing keys keep their place; new keys follow.
  assert.deepEqual(Object.entries(decoded.frames[0].metadata), [["a", "1"], ["b", "three"], ["c", "4"], ["method", "hello"]]);
  assert.equal(decoded.frames[0].requestId, "7");
  const reply = await sendFrame(headerServer.port, second, true);
  assert.deepEqual(headerServer.headersSeen, [{ a: "1", b: "three", c: "4" }]);
  assert.deepEqual((await decode("thrift", reply!)).frames.map((f) => [f.kind, f.requestId]), [["response", "7"]]);
});

for (const [name, protocolId] of [["binary", 0], ["compact", 2]] as const) {
  test(`a THeader (${name}) error reply is read by a real THeader client`, { timeout: 60_000 }, async (t) => {
    const { Greeter } = generated();
    // npm thrift clients never write THeader (see peers.ts), so the request is converted here and the
    // error reply is written for the THeader request: what a THeader client would get from Meltemi.
    const peer = await startScripted(async (frame) => {
      const request = await asHeader(frame, { "x-meltemi": "1" });
      const reply = await encodeError("thrift", request, ErrorKind.NoRoute, "meltemi: no route");
      assert.ok(isTHeader(reply));
      return reply;
    });
    t.after(() => peer.close());
    const client = connect(peer.port, HEADER_WIRE);
    t.after(() => client.close());
    const greeter = client.client(Greeter);
    greeter.output.setProtocolId(protocolId);
    await assert.rejects(call((cb) => greeter.hello("x", cb)), (e: { message?: string; type?: number }) =>
      e instanceof thrift.Thrift.TApplicationException && e.message === "meltemi: no route" && e.type === 1);
    assert.deepEqual(client.errors, []);
  });
}
