// Frames Meltemi encodes are accepted by real Apache Dubbo (Java, 3.3.6): a request whose attachments
// Meltemi mutated reaches the real provider, which reads them; a response Meltemi mutated reaches the
// real consumer; Meltemi's error replies make the real consumer fail the call with Meltemi's message;
// Meltemi's heartbeat replies keep the real consumer's connection alive.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { decode, encodeError, encodeMutated, ErrorKind, heartbeatReply } from "./harness";
import { Consumer, type FakeProvider, peersClasspath, type Relay, splitFrames, startFakeProvider, startProvider, startRelay, waitUntil } from "./dubbo/peers";

const ASTRAL = "\u{1F680} ok"; // a surrogate pair: hessian-lite wants it as two 3-byte sequences
const HUGE = "h".repeat(40_000); // over one 32768-unit chunk: written as 'R' + 'S'

let provider: Awaited<ReturnType<typeof startProvider>> | undefined;
let consumer: Consumer | undefined;
const closers: Array<() => Promise<void>> = [];

before(async () => {
  const classpath = peersClasspath();
  provider = await startProvider(classpath);
  consumer = await Consumer.start(classpath);
});

after(async () => {
  consumer?.kill();
  provider?.process.kill();
  for (const close of closers) await close();
});

async function relayTo(port: number, request?: (f: Buffer) => Promise<Buffer>, response?: (f: Buffer) => Promise<Buffer>): Promise<Relay> {
  const relay = await startRelay(port, request, response);
  closers.push(relay.close);
  return relay;
}

async function fake(answer: (f: Buffer) => Promise<Buffer | null>): Promise<FakeProvider> {
  const f = await startFakeProvider(answer);
  closers.push(f.close);
  return f;
}

async function kindOf(frame: Buffer): Promise<string> {
  const d = await decode("dubbo", frame);
  assert.equal(d.error, "");
  return d.frames[0].kind;
}

/** Rewrites every request (not heartbeats) with `mutation`. */
const mutateRequests = (mutation: Record<string, string>) => async (f: Buffer): Promise<Buffer> => {
  const kind = await kindOf(f);
  if (kind !== "request" && kind !== "oneway") return f;
  const out = await encodeMutated("dubbo", f, mutation);
  assert.ok(out.length > 0, "the codec mutates the request");
  return out;
};

test("the real provider reads attachments Meltemi added and overwrote", async () => {
  const relay = await relayTo(provider!.port, mutateRequests({ "x-route": "canary", "x-user": "bob", astral: ASTRAL, huge: HUGE }));
  const r = await consumer!.call({ port: relay.port, method: "echo", arg: "hi", attachments: { "x-user": "alice", keep: "me" } });
  assert.equal(r.ok, true, JSON.stringify(r));
  const seen = r.result as Record<string, string>;
  assert.equal(seen.arg, "hi");
  assert.equal(seen["att:x-route"], "canary", "added");
  assert.equal(seen["att:x-user"], "bob", "overwritten");
  assert.equal(seen["att:keep"], "me", "untouched");
  assert.equal(seen["att:astral"], ASTRAL, "non-BMP value as hessian-lite expects it");
  assert.equal(seen["att:huge"], HUGE, "chunked string");
});

test("a mutated request with class definitions and refs in its arguments still reaches the service intact", async () => {
  const relay = await relayTo(provider!.port, mutateRequests({ "x-route": "canary" }));
  const r = await consumer!.call({ port: relay.port, method: "mixed", arg: "m" });
  assert.equal(r.ok, true, JSON.stringify(r));
  const seen = r.result as Record<string, string>;
  assert.equal(seen["att:x-route"], "canary");
  assert.equal(seen["payload.name"], "m");
  assert.equal(seen["list.size"], "15");
  assert.equal(seen.l, String(1n << 50n));
});

test("a mutated group is what the provider routes on", async () => {
  // The request names no group; only the export of group blue has version 1.0.0.
  const plain = await consumer!.call({ port: provider!.port, method: "echo", arg: "g", version: "1.0.0" });
  assert.equal(plain.ok, false, "without the group the provider has no such service");
  const relay = await relayTo(provider!.port, mutateRequests({ group: "blue" }));
  const r = await consumer!.call({ port: relay.port, method: "echo", arg: "g", version: "1.0.0" });
  assert.equal(r.ok, true, JSON.stringify(r));
  const frames = await splitFrames(relay.fromClients());
  const original = (await decode("dubbo", frames.frames[0])).frames[0];
  assert.equal(original.metadata.group, undefined);
});

test("a one-way request mutated by Meltemi is delivered", async () => {
  const relay = await relayTo(provider!.port, mutateRequests({ "x-route": "canary" }));
  const r = await consumer!.call({ port: relay.port, method: "note", arg: "one-way-mutated" });
  assert.equal(r.ok, true);
  await provider!.process.waitLine((l) => l === "NOTE one-way-mutated", 20_000);
});

test("mutation is byte-exact: no change, or an attachment set to its own value, gives the original frame", async () => {
  const relay = await relayTo(provider!.port);
  const r = await consumer!.call({ port: relay.port, method: "echo", arg: "x", attachments: { "x-user": "alice" } });
  assert.equal(r.ok, true);
  const request = (await splitFrames(relay.fromClients())).frames.find((f) => f[2] === 0xc2)!;
  assert.deepEqual(await encodeMutated("dubbo", request, {}), Buffer.from(request));
  assert.deepEqual(await encodeMutated("dubbo", request, { "x-user": "alice", path: "meltemi.peers.dubbo.EchoService" }), Buffer.from(request));
  const changed = await encodeMutated("dubbo", request, { "x-user": "alicf" });
  assert.equal(changed.length, request.length, "same-length value: same length");
  assert.equal(changed.readUInt32BE(12), request.readUInt32BE(12));
  assert.notDeepEqual(changed, Buffer.from(request));
});

test("the real consumer reads response attachments Meltemi added (with and without existing attachments)", async () => {
  const mutateResponses = async (f: Buffer) => {
    const kind = await kindOf(f);
    if (kind !== "response" && kind !== "error") return f;
    const out = await encodeMutated("dubbo", f, { "x-served-via": "meltemi" });
    assert.ok(out.length > 0);
    return out;
  };
  const relay = await relayTo(provider!.port, undefined, mutateResponses);
  const echo = await consumer!.call({ port: relay.port, method: "echo", arg: "r" });
  assert.equal(echo.ok, true, JSON.stringify(echo));
  assert.equal(echo.responseAttachments?.["x-served-via"], "meltemi");
  assert.equal(echo.responseAttachments?.["served-by"], "meltemi-test-provider");
  const nothing = await consumer!.call({ port: relay.port, method: "nothing", arg: "r" });
  assert.equal(nothing.ok, true, JSON.stringify(nothing));
  assert.equal(nothing.result, null);
  assert.equal(nothing.responseAttachments?.["x-served-via"], "meltemi");
});

test("a response without attachments gains them by switching its flag (value -> value with attachments)", async () => {
  // A hand-made RESPONSE_VALUE (flag 1) with the string "v", as a provider answers a 2.0.0 consumer.
  const response = Buffer.from([0xda, 0xbb, 0x02, 20, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 3, 0x91, 0x01, 0x76]);
  const mutated = await encodeMutated("dubbo", response, { k: "v" });
  assert.deepEqual(mutated, Buffer.from([0xda, 0xbb, 0x02, 20, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 9, 0x94, 0x01, 0x76, 0x48, 0x01, 0x6b, 0x01, 0x76, 0x5a]));
  const d = await decode("dubbo", mutated);
  assert.deepEqual(d.frames[0].metadata, { k: "v" });
});

const KINDS: Array<[ErrorKind, string, number]> = [
  [ErrorKind.OverLimit, "over limit", 100],
  [ErrorKind.Unauthorized, "unauthorized", 70],
  [ErrorKind.FaultAbort, "fault abort", 70],
  [ErrorKind.NoRoute, "no route", 60],
  [ErrorKind.BadRequest, "bad request", 40],
];

test("every error reply fails the real consumer's call with Meltemi's message", async () => {
  const replies = await fake(async (f) => {
    const d = (await decode("dubbo", f)).frames[0];
    if (d.kind === "heartbeat") return heartbeatReply("dubbo", f);
    const kind = Number(d.metadata["x-kind"]) as ErrorKind;
    return encodeError("dubbo", f, kind, `meltemi: ${KINDS[kind][1]} (${d.metadata.method})`);
  });
  for (const [kind, label, status] of KINDS) {
    const r = await consumer!.call({ port: replies.port, method: "echo", arg: "e", attachments: { "x-kind": String(kind) } });
    assert.equal(r.ok, false, `${label}: the call fails`);
    assert.equal(r.errorClass, "org.apache.dubbo.rpc.RpcException", label);
    assert.equal(r.rpcCode, 1, `${label}: NETWORK_EXCEPTION, Dubbo's code for a non-OK response status`);
    assert.equal(r.biz, false);
    assert.equal(r.rootClass, "org.apache.dubbo.remoting.RemotingException", label);
    assert.equal(r.rootMessage, `meltemi: ${label} (echo)`, label);
    assert.ok(r.message?.endsWith(`cause: org.apache.dubbo.remoting.RemotingException: meltemi: ${label} (echo)`), r.message);
    const reply = await encodeError("dubbo", replies.received.at(-1)!, kind, "m");
    assert.equal(reply[3], status, `${label}: status byte`);
  }
});

test("a consumer with retries resends a request that got an error reply (a non-business failure)", async () => {
  const replies = await fake(async (f) => {
    const d = (await decode("dubbo", f)).frames[0];
    return d.kind === "heartbeat" ? heartbeatReply("dubbo", f) : encodeError("dubbo", f, ErrorKind.OverLimit, "meltemi: over limit");
  });
  const r = await consumer!.call({ port: replies.port, method: "echo", arg: "retry", retries: 2 });
  assert.equal(r.ok, false);
  const requests = [];
  for (const f of replies.received) {
    const d = (await decode("dubbo", f)).frames[0];
    if (d.kind === "request") requests.push(d);
  }
  assert.equal(requests.length, 3, "Dubbo's failover cluster tried 1 + 2 retries");
});

test("Meltemi's heartbeat replies keep the real consumer's connection up", async () => {
  const replies = await fake(async (f) => {
    const d = (await decode("dubbo", f)).frames[0];
    return d.kind === "heartbeat" ? heartbeatReply("dubbo", f) : encodeError("dubbo", f, ErrorKind.NoRoute, "no route");
  });
  const before = consumer!.process.stderr.filter((l) => l.includes("Receive heartbeat response")).length;
  await consumer!.call({ port: replies.port, method: "echo", arg: "hb", heartbeat: 300 });
  const heartbeats = async () => {
    let n = 0;
    for (const f of replies.received) if ((await decode("dubbo", f)).frames[0].kind === "heartbeat") n++;
    return n;
  };
  const deadline = Date.now() + 30_000;
  while ((await heartbeats()) < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  assert.ok((await heartbeats()) >= 4, "the consumer kept sending heartbeats on the same connection");
  await waitUntil("the consumer logged heartbeat responses", () => consumer!.process.stderr.filter((l) => l.includes("Receive heartbeat response")).length, (n) => n > before, 10_000);
  assert.equal(replies.connections, 1, "no reconnect");
  assert.equal(replies.closed, 0, "the consumer did not close the connection");
});
