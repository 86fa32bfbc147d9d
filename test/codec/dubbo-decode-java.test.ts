// Frames produced by real Apache Dubbo (Java, 3.3.6, dubbo protocol + hessian2, direct URL) decode to
// the expected metadata: a real consumer calls a real provider through a loopback relay that records
// both directions, and the Meltemi codec (the harness build) decodes what went over the wire.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { decode, heartbeatReply, type Frame } from "./harness";
import { Consumer, type CallResult, peersClasspath, type Relay, splitFrames, startProvider, startRelay, waitUntil } from "./dubbo/peers";

const SERVICE = "meltemi.peers.dubbo.EchoService";
const ASTRAL = "a\u{1F600}b"; // outside the BMP: two UTF-16 units
const LONG = "v".repeat(2000); // hessian2 'S' form (over 1023 units)

let provider: Awaited<ReturnType<typeof startProvider>> | undefined;
let consumer: Consumer | undefined;
let relay: Relay | undefined;
const results: Record<string, CallResult> = {};
let requests: Frame[] = [];
let responses: Frame[] = [];

before(async () => {
  const classpath = peersClasspath();
  provider = await startProvider(classpath);
  relay = await startRelay(provider.port);
  consumer = await Consumer.start(classpath);
  const port = relay.port;
  // heartbeat=500 makes the consumer send heartbeats soon after the connection idles.
  results.echo = await consumer.call({ port, method: "echo", arg: "hi", heartbeat: 500, attachments: { "x-user": "alice", astral: ASTRAL, long: LONG } });
  results.grouped = await consumer.call({ port, method: "echo", arg: "hi", group: "blue", version: "1.0.0" });
  results.fail = await consumer.call({ port, method: "fail", arg: "boom" });
  results.nothing = await consumer.call({ port, method: "nothing", arg: "x" });
  results.mixed = await consumer.call({ port, method: "mixed", arg: "m", attachments: { "after-args": "yes" } });
  results.note = await consumer.call({ port, method: "note", arg: "n" });
  await provider.process.waitLine((l) => l === "NOTE n", 20_000);
  // Wait for a heartbeat and its reply to cross the relay.
  await waitUntil("a heartbeat request and its reply", () => relay!, (r) => countHeartbeats(r.fromClients()) > 0 && countHeartbeats(r.fromUpstream()) > 0, 30_000);
  const c2s = await decode("dubbo", relay.fromClients());
  const s2c = await decode("dubbo", relay.fromUpstream());
  assert.equal(c2s.error, "", "the consumer's stream decodes");
  assert.equal(s2c.error, "", "the provider's stream decodes");
  requests = c2s.frames;
  responses = s2c.frames;
});

after(async () => {
  consumer?.kill();
  provider?.process.kill();
  await relay?.close();
});

/** Counts heartbeat frames (event bit) by the raw header, independent of the codec under test. */
function countHeartbeats(stream: Buffer): number {
  let n = 0;
  for (let off = 0; off + 16 <= stream.length;) {
    if ((stream[off + 2] & 0x20) !== 0) n++;
    off += 16 + stream.readUInt32BE(off + 12);
  }
  return n;
}

function requestFor(method: string, pred: (f: Frame) => boolean = () => true): Frame {
  const f = requests.find((r) => r.kind !== "heartbeat" && r.metadata.method === method && pred(r));
  assert.ok(f, `a ${method} request was captured`);
  return f;
}

function responseTo(req: Frame): Frame {
  const f = responses.find((r) => r.requestId === req.requestId && r.kind !== "heartbeat");
  assert.ok(f, `the response to request ${req.requestId} was captured`);
  return f;
}

test("the real calls went through the relay as expected", () => {
  assert.equal(results.echo.ok, true, JSON.stringify(results.echo));
  const echoed = results.echo.result as Record<string, string>;
  assert.equal(echoed["att:x-user"], "alice");
  assert.equal(echoed["att:astral"], ASTRAL);
  assert.equal(results.fail.ok, false);
  assert.equal(results.fail.message, "boom");
  assert.equal(results.nothing.ok, true);
  assert.equal(results.nothing.result, null);
  assert.equal(results.mixed.ok, true, JSON.stringify(results.mixed));
});

test("a two-way request decodes to interface, method, version and every string attachment", () => {
  const echo = requestFor("echo", (f) => f.metadata["x-user"] === "alice");
  assert.equal(echo.kind, "request");
  assert.equal(echo.twoWay, true);
  assert.equal(echo.metadata.interface, SERVICE);
  assert.equal(echo.metadata.version, "0.0.0", "Dubbo 3 writes 0.0.0 when the reference has no version");
  assert.equal(echo.metadata.path, SERVICE);
  assert.equal(echo.metadata.astral, ASTRAL);
  assert.equal(echo.metadata.long, LONG);
  assert.equal(echo.metadata["remote.application"], "meltemi-test-consumer");
  assert.equal(echo.metadata.timeout, "5000");
  assert.equal(echo.metadata.group, undefined, "no group attachment without a group");
  // What Dubbo 3.3.6 sends, recorded for the route tables: these keys and no others.
  assert.deepEqual(Object.keys(echo.metadata).sort(),
    ["astral", "interface", "long", "method", "path", "remote.application", "timeout", "version", "x-user"]);
});

test("group and version travel as the body's version and the `group` attachment", () => {
  const grouped = requestFor("echo", (f) => f.metadata.group !== undefined);
  assert.equal(grouped.metadata.group, "blue");
  assert.equal(grouped.metadata.version, "1.0.0");
  assert.equal(grouped.metadata.interface, SERVICE);
  assert.equal(responseTo(grouped).kind, "response");
});

test("arguments of every hessian2 shape Java writes are skipped to reach the attachments", () => {
  const mixed = requestFor("mixed");
  assert.ok(mixed.frameLength > 100_000, "the mixed call carries chunked strings and binaries");
  assert.equal(mixed.metadata["after-args"], "yes");
  assert.equal(mixed.metadata.interface, SERVICE);
  assert.equal(responseTo(mixed).kind, "response");
});

test("a one-way call decodes as oneway and gets no response", () => {
  const note = requestFor("note");
  assert.equal(note.kind, "oneway");
  assert.equal(note.twoWay, false);
  assert.equal(responses.find((r) => r.requestId === note.requestId), undefined);
});

test("responses: value and null are responses, an exception is an error, with their attachments", () => {
  const echo = responseTo(requestFor("echo"));
  assert.equal(echo.kind, "response");
  assert.equal(echo.metadata["served-by"], "meltemi-test-provider");
  assert.equal(echo.metadata.dubbo, "2.0.2");
  const nothing = responseTo(requestFor("nothing"));
  assert.equal(nothing.kind, "response");
  const fail = responseTo(requestFor("fail"));
  assert.equal(fail.kind, "error");
  assert.equal(fail.metadata.dubbo, "2.0.2", "attachments after the exception object are found");
});

test("heartbeats both ways decode as heartbeat; Meltemi's reply is byte-for-byte the provider's", async () => {
  const beats = requests.filter((f) => f.kind === "heartbeat");
  assert.ok(beats.length > 0);
  assert.equal(beats[0].twoWay, true);
  const answer = responses.find((r) => r.kind === "heartbeat" && r.requestId === beats[0].requestId);
  assert.ok(answer, "the provider answered the heartbeat");
  assert.equal(answer.twoWay, false);

  const c2s = await splitFrames(relay!.fromClients());
  const s2c = await splitFrames(relay!.fromUpstream());
  const request = c2s.frames[requests.indexOf(beats[0])];
  const providerReply = s2c.frames[responses.indexOf(answer)];
  assert.deepEqual(await heartbeatReply("dubbo", request), Buffer.from(providerReply));
});

test("request ids are the header's 64-bit ids (Dubbo 3 starts them at a random negative value)", () => {
  const ids = requests.map((r) => BigInt(r.requestId));
  assert.equal(new Set(ids).size, ids.length, "ids are unique");
  const stream = relay!.fromClients();
  assert.equal(BigInt(requests[0].requestId), stream.readBigInt64BE(4));
});

test("every split point of three captured frames yields the same frames", async () => {
  const { frames } = await splitFrames(relay!.fromClients());
  const sample = Buffer.concat(frames.filter((f) => f.length < 400).slice(0, 3));
  const whole = await decode("dubbo", sample);
  assert.equal(whole.frames.length, 3);
  for (let cut = 1; cut < sample.length; cut++) {
    const split = await decode("dubbo", sample, [cut]);
    assert.deepEqual(split, whole, `split at ${cut}`);
  }
});

test("the whole captured streams decode the same when fed in small random pieces", async () => {
  for (const stream of [relay!.fromClients(), relay!.fromUpstream()]) {
    const whole = await decode("dubbo", stream);
    const cuts: number[] = [];
    for (let off = 1 + Math.floor(Math.random() * 700); off < stream.length; off += 1 + Math.floor(Math.random() * 700)) cuts.push(off);
    assert.deepEqual(await decode("dubbo", stream, cuts), whole);
  }
});

test("responses without attachments (flags 0, 1, 2) from a request with dubbo version 2.0.0", async () => {
  // Dubbo answers with attachments only to dubbo versions 2.0.2..2.0.99 (Version.isSupportResponseAttachment);
  // rewriting the captured 2.0.2 (same length) gets the older response forms from the real provider.
  const { frames } = await splitFrames(relay!.fromClients());
  const pick = (method: string) => frames[requests.indexOf(requestFor(method))];
  const legacy = ["echo", "nothing", "fail"].map((m) => {
    const f = Buffer.from(pick(m));
    const version = Buffer.from("\x052.0.2", "latin1");
    assert.ok(f.subarray(16, 22).equals(version), "the body starts with the dubbo version 2.0.2");
    f.write("\x052.0.0", 16, "latin1");
    return f;
  });
  const replies = await exchangeFrames(provider!.port, Buffer.concat(legacy), 3);
  const decoded = await decode("dubbo", replies);
  assert.equal(decoded.error, "");
  const byId = (f: Buffer) => decoded.frames.find((r) => r.requestId === f.readBigInt64BE(4).toString())!;
  const { frames: raw } = await splitFrames(replies);
  const flagOf = (f: Buffer) => raw[decoded.frames.indexOf(byId(f))][16] - 0x90;

  assert.equal(flagOf(legacy[0]), 1, "RESPONSE_VALUE");
  assert.equal(byId(legacy[0]).kind, "response");
  assert.equal(flagOf(legacy[1]), 2, "RESPONSE_NULL_VALUE");
  assert.equal(byId(legacy[1]).kind, "response");
  assert.equal(flagOf(legacy[2]), 0, "RESPONSE_WITH_EXCEPTION");
  assert.equal(byId(legacy[2]).kind, "error");
  for (const f of legacy) assert.deepEqual(byId(f).metadata, {});
});

/** Sends `data` on a new connection and collects bytes until `frames` whole frames came back. */
async function exchangeFrames(port: number, data: Buffer, frames: number): Promise<Buffer> {
  const socket = net.connect(port, "127.0.0.1");
  try {
    const chunks: Buffer[] = [];
    const done = new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no reply within 20 s")), 20_000);
      socket.on("data", (d) => {
        chunks.push(d);
        const all = Buffer.concat(chunks);
        let n = 0;
        for (let off = 0; off + 16 <= all.length && off + 16 + all.readUInt32BE(off + 12) <= all.length; off += 16 + all.readUInt32BE(off + 12)) n++;
        if (n >= frames) { clearTimeout(timer); resolve(all); }
      });
      socket.on("error", (e) => { clearTimeout(timer); reject(e); });
    });
    socket.write(data);
    return await done;
  } finally {
    socket.destroy();
  }
}
