// Meltemi's Thrift codec reads what real Apache Thrift peers (npm thrift + Debian's thrift-compiler)
// put on the wire: a recording relay sits between a real client and a real server, and both byte
// streams must decode to the frames the calls made, whatever the TCP segmentation (every split point).
import { test, TestContext } from "node:test";
import assert from "node:assert/strict";
import { decode, DecodeResult } from "./harness";
import { WIRES, Wire, call, connect, generated, sampleItem, startRelay, startServer, frameCount } from "./thrift/peers";
import { until } from "../wait";

type Row = [kind: string, requestId: string, metadata: Record<string, string>];
const rows = (r: DecodeResult): Row[] => r.frames.map((f) => [f.kind, f.requestId, f.metadata]);

/** A real server of `wire`, a recording relay in front of it, and a real client connected to the relay. */
async function recorded(t: TestContext, wire: Wire, opts: { multiplexed?: boolean } = {}) {
  const server = await startServer(wire, opts);
  t.after(() => server.close());
  const relay = await startRelay(server.port);
  t.after(() => relay.close());
  const client = connect(relay.port, wire);
  t.after(() => client.close());
  return { server, relay, client };
}

/** Decodes a whole stream that must hold nothing but complete frames. */
async function decodeAll(bytes: Buffer): Promise<DecodeResult> {
  const r = await decode("thrift", bytes);
  assert.equal(r.error, "");
  assert.equal(r.pending, 0);
  assert.equal(r.frames.reduce((n, f) => n + f.frameLength, 0), bytes.length);
  return r;
}

/** The stream decodes the same however it is cut: at every single offset, and one byte at a time. */
async function assertSameAtEverySplit(bytes: Buffer, whole: DecodeResult): Promise<void> {
  for (let i = 1; i < bytes.length; i++) {
    const cut = await decode("thrift", bytes, [i]);
    assert.deepEqual(cut, whole, `split at byte ${i} of ${bytes.length}`);
  }
  const singles = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
  assert.deepEqual(await decode("thrift", bytes, singles), whole, "one byte at a time");
}

for (const wire of WIRES) {
  test(`${wire.name}: a real client's requests and a real server's replies decode, at every split`, { timeout: 120_000 }, async (t) => {
    const { Greeter, types } = generated();
    const { server, relay, client } = await recorded(t, wire);
    const greeter = client.client(Greeter);

    // Pipelined: every call is on the wire before the first reply is read.
    const seq: string[] = [];
    const hello = call<string>((cb) => greeter.hello("world", cb)); seq.push(String(greeter.seqid()));
    const echo = call<{ id: number }>((cb) => greeter.echo(sampleItem(3), cb)); seq.push(String(greeter.seqid()));
    const notFound = call((cb) => greeter.echo(new types.Item({ id: -7 }), cb)); seq.push(String(greeter.seqid()));
    greeter.notify("fire and forget", () => {}); seq.push(String(greeter.seqid()));
    const boom = call((cb) => greeter.boom("kaput", cb)); seq.push(String(greeter.seqid()));

    assert.equal(await hello, "hello world");
    assert.equal((await echo).id, 4);
    await assert.rejects(notFound, (e: { message?: string }) => e.message === "no item -7");
    await assert.rejects(boom, (e: { message?: string }) => e.message === "kaput");
    await until("the oneway call at the server", () => server.notes.includes("fire and forget"));
    await until("5 requests through the relay", async () => (await frameCount(relay.toServer())) === 5);
    assert.equal(new Set(seq).size, 5, `distinct seqids ${seq}`);

    const requests = relay.toServer();
    const decodedRequests = await decodeAll(requests);
    assert.deepEqual(rows(decodedRequests), [
      ["request", seq[0], { method: "hello" }],
      ["request", seq[1], { method: "echo" }],
      ["request", seq[2], { method: "echo" }],
      ["oneway", seq[3], { method: "notify" }],
      ["request", seq[4], { method: "boom" }],
    ]);
    assert.deepEqual(decodedRequests.frames.map((f) => f.twoWay), [true, true, true, false, true]);

    const replies = relay.toClient();
    const decodedReplies = await decodeAll(replies);
    assert.deepEqual(rows(decodedReplies), [
      ["response", seq[0], { method: "hello" }],
      ["response", seq[1], { method: "echo" }],
      // A declared exception is a normal reply whose result struct sets the exception field.
      ["response", seq[2], { method: "echo" }],
      // An undeclared error is a message of type EXCEPTION carrying a TApplicationException.
      ["error", seq[4], { method: "boom" }],
    ]);

    await assertSameAtEverySplit(requests, decodedRequests);
    await assertSameAtEverySplit(replies, decodedReplies);
  });

  test(`${wire.name}: multiplexed calls ("Service:method") decode to service and method`, { timeout: 120_000 }, async (t) => {
    const { Greeter, Calculator } = generated();
    const { server, relay, client } = await recorded(t, wire, { multiplexed: true });
    const calculator = client.client(Calculator, "Calculator");
    const greeter = client.client(Greeter, "Greeter");

    const seq: string[] = [];
    const sum = call<number>((cb) => calculator.add(2, 40, cb)); seq.push(String(calculator.seqid()));
    const hello = call<string>((cb) => greeter.hello("mux", cb)); seq.push(String(greeter.seqid()));
    greeter.notify("mux note", () => {}); seq.push(String(greeter.seqid()));
    assert.equal(await sum, 42);
    assert.equal(await hello, "hello mux");
    await until("the oneway call at the server", () => server.notes.includes("mux note"));
    await until("3 requests through the relay", async () => (await frameCount(relay.toServer())) === 3);

    const requests = await decodeAll(relay.toServer());
    assert.deepEqual(rows(requests), [
      ["request", seq[0], { service: "Calculator", method: "add" }],
      ["request", seq[1], { service: "Greeter", method: "hello" }],
      ["oneway", seq[2], { service: "Greeter", method: "notify" }],
    ]);
    // TMultiplexedProcessor answers with the bare method name: no service key in replies.
    const replies = await decodeAll(relay.toClient());
    assert.deepEqual(rows(replies), [
      ["response", seq[0], { method: "add" }],
      ["response", seq[1], { method: "hello" }],
    ]);
    await assertSameAtEverySplit(relay.toServer(), requests);
  });
}

for (const wire of WIRES) {
  test(`${wire.name}: a large, deeply nested request decodes; limits turn it into errors, never a hang`, { timeout: 120_000 }, async (t) => {
    const { Greeter } = generated();
    const { relay, client } = await recorded(t, wire);
    const greeter = client.client(Greeter);
    const echo = call<{ id: number }>((cb) => greeter.echo(sampleItem(20, 10_000), cb));
    const seq = String(greeter.seqid());
    assert.equal((await echo).id, 21);

    const request = relay.toServer();
    assert.ok(request.length > 200_000, `request of ${request.length} bytes`);
    const cuts = [1, 3, 4, 5, 6, 13, 4096, 65_536, 65_537, request.length - 1];
    const whole = await decode("thrift", request, cuts);
    assert.equal(whole.error, "");
    assert.deepEqual(rows(whole), [["request", seq, { method: "echo" }]]);
    assert.equal(whole.frames[0].frameLength, request.length);

    const small = await decode("thrift", request, cuts, { maxFrameBytes: 100_000 });
    assert.equal(small.frames.length, 0);
    assert.match(small.error, /^frame_too_large/);
    // A framed message's struct is not walked (its length is known); an unframed one is, with a depth bound.
    const shallow = await decode("thrift", request, cuts, { maxDepth: 8 });
    if (wire.framed) assert.equal(shallow.error, "");
    else assert.match(shallow.error, /^too_deep/);
  });
}
