// Fuzz: at least 1,000,000 frames per codec through the whole filter in the Node host (the built
// module, every read through proxy_on_downstream_data / proxy_on_upstream_data with Envoy's buffer
// rules), 0 traps. Seeded and deterministic (MELTEMI_TEST_SEED replays a run; MELTEMI_FUZZ_FRAMES
// changes the count). The frames are valid ones and mutations of them: truncation, bit flips, random
// bytes, length fields set to other values, trailing garbage, a frame of random bytes; each
// connection gets a few of them (see Counted), cut into reads at random points (a frame spans reads, a read holds
// several frames), requests from the client and answers from the upstream. Two configurations per
// codec drive the paths behind decode (the second and third only for a codec without a native Envoy router: Bolt, tRPC):
// perRequest routing (the routing key, probes for rejections),
// perConnection with a request mutation, a response mutation, a deny rule and a rate limit,
// and perConnection decoded lazily (no mutation: Codec.lazy) with a route on a key outside the body's
// own fields and a rate limit, so that the rest of every request is decoded on demand during the decision
// (before the limit's draw).
//
// Counted: a frame is counted when all of its bytes reached the filter. A connection carries valid
// frames and, most of the time, one damaged frame last (nothing after it: a frame after one that
// makes the filter close would never be decoded).
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WasmHost } from "../host/index";
import { dubboAnswer, dubboRequest } from "../codec/dubbo/frames";
import { WIRES, encodeWith, thrift, type Wire } from "../codec/thrift/peers";
import { asHeader } from "../codec/thrift/harness";
import { boltAnswer, boltHeartbeat, boltRequest, boltResponse } from "../codec/bolt/frames";
import { trpcAnswer, trpcRequest, trpcResponse } from "../codec/trpc/frames";
import { CODEC_NAMES, hasNativeRouter } from "../../controller/translate/codecs";

const wasm = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../build/meltemi.wasm");
const FRAMES = Number(process.env.MELTEMI_FUZZ_FRAMES ?? 1_000_000);
const SEED = Number(process.env.MELTEMI_TEST_SEED ?? 0x5eed1234) >>> 0;
const FRAMES_PER_CONNECTION = 4;

/** xorshift32: small, fast, deterministic. */
class Rng {
  constructor(private s: number) { if (this.s === 0) this.s = 1; }
  next(): number {
    let x = this.s;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.s = x;
    return x;
  }
  below(n: number): number { return this.next() % n; }
  chance(p: number): boolean { return this.next() / 0x100000000 < p; }
}

/** A damaged copy of a valid frame. `lengthAt`: offsets of big-endian u32 length fields. */
function mutate(rng: Rng, frame: Buffer, lengthAt: number[]): Buffer {
  const f = Buffer.from(frame);
  switch (rng.below(6)) {
    case 0: return f.subarray(0, rng.below(f.length)); // truncated
    case 1: { // bit flips
      for (let i = 0, n = 1 + rng.below(4); i < n; i++) { const at = rng.below(f.length); f[at] ^= 1 << rng.below(8); }
      return f;
    }
    case 2: { // random bytes in place
      for (let i = 0, n = 1 + rng.below(4); i < n; i++) f[rng.below(f.length)] = rng.below(256);
      return f;
    }
    case 3: { // a length field set to another value: small, large, off by one, or random
      const at = lengthAt.length > 0 && rng.chance(0.7) ? lengthAt[rng.below(lengthAt.length)] : rng.below(Math.max(1, f.length - 3));
      if (at + 4 > f.length) return f;
      const old = f.readUInt32BE(at);
      const choices = [0, 1, old - 1, old + 1, 0x7fffffff, 0xffffffff, rng.next(), old + 1 + rng.below(64)];
      f.writeUInt32BE(choices[rng.below(choices.length)] >>> 0, at);
      return f;
    }
    case 4: { // trailing garbage
      const tail = Buffer.alloc(1 + rng.below(32));
      for (let i = 0; i < tail.length; i++) tail[i] = rng.below(256);
      return Buffer.concat([f, tail]);
    }
    default: { // random bytes, first byte often plausible
      const r = Buffer.alloc(rng.below(64));
      for (let i = 0; i < r.length; i++) r[i] = rng.below(256);
      if (r.length > 0 && rng.chance(0.5)) r[0] = f[0];
      return r;
    }
  }
}

interface Corpus { requests: Buffer[]; answers: Buffer[]; lengthAt: (f: Buffer) => number[] }

function dubboCorpus(): Corpus {
  const requests: Buffer[] = [];
  const methods = ["greet", "admin", "limited", "echo"];
  for (let i = 0; i < 16; i++) {
    const attachments: Record<string, string> = {};
    for (let a = 0; a < i % 9; a++) attachments[`k${a}`] = `v${a}`.repeat(1 + a);
    requests.push(dubboRequest(BigInt(i * 7 - 20), methods[i % methods.length], attachments, i % 2 ? "org.example.Greeter" : "org.example.Other", "x".repeat(i * 11)));
  }
  const heartbeat = Buffer.from(requests[0]);
  heartbeat[2] |= 0x20;
  requests.push(heartbeat);
  const oneway = Buffer.from(requests[1]);
  oneway[2] &= ~0x40;
  requests.push(oneway);
  const answers = requests.map((r) => dubboAnswer(r));
  return { requests, answers, lengthAt: () => [12] };
}

async function thriftCorpus(): Promise<Corpus> {
  const { MessageType, Type } = thrift.Thrift;
  const message = (wire: Wire, name: string, type: number, seqid: number, arg: string, nested: number): Buffer =>
    encodeWith(wire, (p) => {
      p.writeMessageBegin(name, type, seqid);
      p.writeStructBegin("args");
      p.writeFieldBegin("name", Type.STRING, 1); p.writeString(arg); p.writeFieldEnd();
      if (nested > 0) {
        p.writeFieldBegin("m", Type.MAP, 2); p.writeMapBegin(Type.I32, Type.LIST, nested);
        for (let i = 0; i < nested; i++) { p.writeI32(i); p.writeListBegin(Type.DOUBLE, 2); p.writeDouble(i); p.writeDouble(-i); p.writeListEnd(); }
        p.writeMapEnd(); p.writeFieldEnd();
      }
      p.writeFieldStop(); p.writeStructEnd();
      p.writeMessageEnd();
    });
  const requests: Buffer[] = [];
  const answers: Buffer[] = [];
  const names = ["hello", "admin", "limited", "Greeter:hello"];
  for (const wire of WIRES) {
    for (let i = 0; i < 4; i++) {
      requests.push(message(wire, names[i], i === 3 ? MessageType.ONEWAY : MessageType.CALL, i * 3 - 4, "a".repeat(i * 9), i));
      answers.push(message(wire, names[i], i === 2 ? MessageType.EXCEPTION : MessageType.REPLY, i * 3 - 4, "r", i));
    }
  }
  const framed = WIRES.find((w) => w.name === "framed binary")!;
  requests.push(await asHeader(message(framed, "hello", MessageType.CALL, 9, "h", 1), { "x-user": "vip-1", k: "v" }));
  answers.push(await asHeader(message(framed, "hello", MessageType.REPLY, 9, "h", 0), { a: "b" }));
  // A frame's length fields: framed and THeader lengths at 0, string lengths after a strict binary header.
  return { requests, answers, lengthAt: (f) => (f.length > 8 && f[0] === 0x80 ? [4] : [0, 4, 8]) };
}

function boltCorpus(): Corpus {
  const requests: Buffer[] = [];
  const methods = ["greet", "admin", "limited", "echo"];
  for (let i = 0; i < 16; i++) {
    const headers: Record<string, string> = {};
    for (let a = 0; a < i % 9; a++) headers[`k${a}`] = `v${a}`.repeat(1 + a);
    requests.push(boltRequest(i * 7 - 20, methods[i % methods.length], headers, { oneway: i % 5 === 4, content: Buffer.from("x".repeat(i * 11)) }));
  }
  requests.push(boltHeartbeat(99));
  const answers = requests.map((r) => boltAnswer(r));
  answers.push(boltResponse(5, 2), boltResponse(6, 4));
  // classLen, headerLen (u16) and contentLen (i32): the u32 at 14 covers both short lengths of a request.
  return { requests, answers, lengthAt: (f) => (f[1] === 0 ? [12, 16] : [14, 18]) };
}

function trpcCorpus(): Corpus {
  const requests: Buffer[] = [];
  const methods = ["greet", "admin", "limited", "echo"];
  for (let i = 0; i < 16; i++) {
    const transInfo: Record<string, string> = {};
    for (let a = 0; a < i % 9; a++) transInfo[`k${a}`] = `v${a}`.repeat(1 + a);
    requests.push(trpcRequest(i * 7 + 1, `/fuzz.Greeter/${methods[i % methods.length]}`, { oneway: i % 5 === 4, transInfo, body: Buffer.from("x".repeat(i * 11)) }));
  }
  const answers = requests.map((r) => trpcAnswer(r));
  answers.push(trpcResponse(5, { ret: 23 }), trpcResponse(6, { funcRet: -1, transInfo: { a: "b" } }));
  // The total length (u32 at 4), and the header length (u16 at 8, with the stream id's high half).
  return { requests, answers, lengthAt: () => [4, 8] };
}

/** One corpus per codec of the module: a codec added without one fails here. */
const CORPORA: Record<string, () => Corpus | Promise<Corpus>> = { dubbo: dubboCorpus, thrift: thriftCorpus, bolt: boltCorpus, trpc: trpcCorpus };
const SEEDS: Record<string, number> = { dubbo: 0xd0bb0, thrift: 0x7e1f7, bolt: 0xb0171, trpc: 0x79bc0 };

function configs(protocol: string): object[] {
  const clusters = ["outbound|1||a", "outbound|1||b"];
  const all = [
    {
      version: 1, name: "fuzz", protocol, routingMode: "perRequest", limits: { maxFrameBytes: 4096 },
      routes: [{ name: "split", destinations: [{ cluster: clusters[0], weight: 1 }, { cluster: clusters[1], weight: 1 }] }],
      authorization: [{ name: "no-admin", action: "DENY", rules: [{ to: [{ methods: ["admin"] }] }] }],
      randomSeed: SEED,
    },
    {
      version: 1, name: "fuzz", protocol, routingMode: "perConnection", limits: { maxFrameBytes: 4096, maxMetadataEntries: 8 },
      routes: [{
        name: "all", destinations: [{ cluster: clusters[0] }],
        requestMutation: [{ key: "x-fuzz", value: "1" }], responseMutation: [{ key: "x-back", value: "2" }],
      }],
      authorization: [{ name: "no-admin", action: "DENY", rules: [{ to: [{ methods: ["admin"] }] }] }],
      localRateLimit: { conditions: [{ match: { method: { exact: "limited" } }, tokenBucket: { maxTokens: 1, fillIntervalMs: 3_600_000 } }] },
      randomSeed: SEED,
    },
    {
      version: 1, name: "fuzz", protocol, routingMode: "perConnection", limits: { maxFrameBytes: 4096, maxMetadataEntries: 8 },
      routes: [
        { name: "keyed", match: { "x-fuzz-key": { exact: "k" } }, destinations: [{ cluster: clusters[1] }] },
        { name: "rest", destinations: [{ cluster: clusters[0] }] },
      ],
      authorization: [{ name: "no-admin", action: "DENY", rules: [{ to: [{ methods: ["admin"] }] }] }],
      // Never reached: with a limit, the rest a later lookup may need is decoded before the draw (decision.ts).
      localRateLimit: { tokenBucket: { maxTokens: 1_000_000, fillIntervalMs: 3_600_000 } },
      randomSeed: SEED,
    },
  ];
  // A codec without a native Envoy router routes perConnection only (the configuration parser refuses perRequest).
  return hasNativeRouter(protocol) ? all : all.slice(1);
}

interface Tally { frames: number; damaged: number; connections: number; closedByFilter: number }

async function fuzz(protocol: string, corpus: Corpus): Promise<Tally> {
  const rng = new Rng(SEED ^ SEEDS[protocol]);
  const vms = await Promise.all(configs(protocol).map((c) => WasmHost.load(wasm, { pluginName: "fuzz", pluginConfig: JSON.stringify(c) })));
  for (const v of vms) assert.deepEqual(v.logs.filter((l) => l.message.includes("rejected")).map((l) => l.message), [], "the configuration is accepted");
  const t: Tally = { frames: 0, damaged: 0, connections: 0, closedByFilter: 0 };
  while (t.frames < FRAMES) {
    const vm = vms[t.connections % vms.length];
    const conn = vm.connect();
    t.connections++;
    // Valid frames, then (mostly) one damaged frame last: frames after a damaged one that closes the
    // connection would never be decoded, so none are sent. Requests from the client, answers from
    // the upstream; each direction's bytes are cut into reads at random points.
    const streams: { frames: Buffer[]; damagedLast: boolean }[] = [{ frames: [], damagedLast: false }, { frames: [], damagedLast: false }];
    for (let i = 0, n = 1 + rng.below(FRAMES_PER_CONNECTION); i < n; i++) {
      const up = rng.chance(0.3) ? 1 : 0;
      const list = up ? corpus.answers : corpus.requests;
      streams[up].frames.push(list[rng.below(list.length)]);
    }
    if (rng.chance(0.9)) {
      const up = rng.chance(0.3) ? 1 : 0;
      const list = up ? corpus.answers : corpus.requests;
      const base = list[rng.below(list.length)];
      streams[up].frames.push(mutate(rng, base, corpus.lengthAt(base)));
      streams[up].damagedLast = true;
    }
    for (const up of [0, 1]) {
      const { frames, damagedLast } = streams[up];
      const stream = Buffer.concat(frames);
      const ends: number[] = [];
      let acc = 0;
      for (const f of frames) { acc += f.length; ends.push(acc); }
      let at = 0;
      let next = 0;
      while (at < stream.length && !conn.closed) {
        const n = rng.chance(0.5) ? stream.length - at : 1 + rng.below(Math.min(stream.length - at, 512));
        if (up) conn.upstream(stream.subarray(at, at + n)); else conn.downstream(stream.subarray(at, at + n));
        at += n;
        // Counted once all of a frame's bytes reached the filter (a frame closing the connection included).
        while (next < ends.length && ends[next] <= at) {
          t.frames++;
          if (damagedLast && next === ends.length - 1) t.damaged++;
          next++;
        }
      }
      if (conn.closed) break;
    }
    if (conn.closedBy === "filter") t.closedByFilter++;
    if (!conn.closed) conn.close();
    if (t.connections % 64 === 0) vm.advance(10); // ticks: closes after replies, delays, configuration follow
    assert.equal(vm.failed, false, `${protocol}: the VM trapped (seed ${SEED}): ${vm.failure}`);
  }
  for (const v of vms) assert.equal(v.failed, false);
  return t;
}

for (const protocol of CODEC_NAMES) {
  test(`fuzz: ${FRAMES} ${protocol} frames through the filter in the Node host, no trap`, { timeout: 900_000 }, async () => {
    assert.ok(CORPORA[protocol], `no fuzz corpus for the codec ${protocol}`);
    const corpus = await CORPORA[protocol]();
    const started = Date.now();
    const r = await fuzz(protocol, corpus);
    console.log(`fuzz ${protocol}: ${r.frames} frames (${r.damaged} damaged) on ${r.connections} connections (${r.closedByFilter} closed by the filter), ` +
      `0 traps, seed ${SEED}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    assert.ok(r.frames >= FRAMES);
    assert.ok(r.closedByFilter > 0 && r.closedByFilter < r.connections, "both malformed and well-formed connections were exercised");
  });
}
