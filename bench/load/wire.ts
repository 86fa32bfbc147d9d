// The frames the load generator sends and the lean upstream answers, per protocol. Each template is
// encoded ONCE by the real library (Thrift: the npm `thrift` client and processor generated from
// test/codec/thrift/interop.thrift; Dubbo: hessian.js through the project's fixtures in
// test/codec/dubbo/frames.ts) and checked twice before any load runs: decoded back by the real library
// and by Meltemi's own codec. During a run only the request id differs from frame to frame, so the hot
// path copies the template, patches the id, and compares replies byte for byte outside the id.
import hessian from "hessian.js";
import { decode } from "../../test/codec/harness";
import { dubboAnswer, dubboRequest } from "../../test/codec/dubbo/frames";
import { generated, thrift, WIRES } from "../../test/codec/thrift/peers";
import { DUBBO_CLUSTER_ATTACHMENT, thriftRoutedName } from "../../controller/translate/envoy/routing_key";

export type ProtocolName = "thrift" | "dubbo";

export interface BenchWire {
  name: ProtocolName;
  /** What the client sends (id 0) and what a valid answer to it looks like (id 0). */
  request: Buffer;
  reply: Buffer;
  /** Where the id sits in `request` and in `reply`. */
  requestIdOffset: number;
  replyIdOffset: number;
  /** Bytes of the id. */
  idLength: number;
  /** Length of the complete frame starting at `off`, or -1 when `buf` does not yet hold its header. */
  frameLength(buf: Buffer, off: number, end: number): number;
  /** The id of the frame at `off` (a request or a reply, wherever it came from). */
  readId(buf: Buffer, off: number): number;
  /** Writes `id` into the frame at `off` whose id sits at `idOffset`. */
  writeId(buf: Buffer, off: number, idOffset: number, id: number): void;
  /** The upstream's answer to the request frame at `off` (a valid reply to it), written at `out`. */
  answer(req: Buffer, off: number, out: Buffer, outOff: number): number;
  /** The method the requests call (what the route tables match). */
  method: string;
}

// ---- Thrift: framed strict binary, Greeter.hello("bench") ----

const FRAMED_BINARY = WIRES.find((w) => w.name === "framed binary")!;

/** A strict binary framed message with its name replaced by `name` (frame and name lengths fixed). */
function withThriftName(framed: Buffer, name: string): Buffer {
  const oldLength = framed.readUInt32BE(8);
  const n = Buffer.from(name, "utf8");
  const head = Buffer.alloc(12);
  head.writeUInt32BE(framed.readUInt32BE(0) - oldLength + n.length, 0);
  framed.copy(head, 4, 4, 8);
  head.writeUInt32BE(n.length, 8);
  return Buffer.concat([head, n, framed.subarray(12 + oldLength)]);
}

function thriftWire(routedTo?: string): BenchWire {
  const { Greeter } = generated();
  // The generated client writes the request; the generated processor with a real handler answers it.
  let plain = Buffer.alloc(0);
  const transport = new FRAMED_BINARY.transport(undefined, (b: Buffer) => { plain = Buffer.from(b); });
  const client = new Greeter.Client(transport, FRAMED_BINARY.protocol);
  client._seqid = 0;
  client.send_hello("bench"); // flushes the transport: one framed message
  const reply = thriftProcess(Greeter, plain);
  // Carrying Meltemi's routing key: the name as the filter writes it; thrift_proxy strips it again.
  const request = routedTo === undefined ? plain : withThriftName(plain, thriftRoutedName(routedTo, "hello"));
  // Both decode with the real library: the reply is what the client expects for its call.
  const got = thriftDecodeReply(Greeter, reply);
  if (got.fname !== "hello" || got.result !== "hello bench") throw new Error(`thrift reply template decodes to ${JSON.stringify(got)}`);
  // strict binary: frame length, version|type, name length, name, seqid
  const idOffset = (b: Buffer, off: number) => 12 + b.readUInt32BE(off + 8);
  const requestIdOffset = idOffset(request, 0);
  const replyIdOffset = idOffset(reply, 0);
  return {
    name: "thrift",
    method: "hello",
    request,
    reply,
    requestIdOffset,
    replyIdOffset,
    idLength: 4,
    frameLength: (b, off, end) => (end - off < 4 ? -1 : 4 + b.readUInt32BE(off)),
    readId: (b, off) => b.readInt32BE(off + idOffset(b, off)),
    writeId: (b, off, at, id) => { b.writeInt32BE(id | 0, off + at); },
    answer(req, off, out, outOff) {
      // Only `hello` calls (version word 0x80010001) reach the upstream in this benchmark.
      if (req.readUInt32BE(off + 4) !== 0x80010001 || req.readUInt32BE(off + 8) !== 5 || req.toString("latin1", off + 12, off + 17) !== "hello") {
        throw new Error(`thrift upstream: unexpected request ${req.subarray(off, off + 32).toString("hex")}`);
      }
      reply.copy(out, outOff);
      out.writeInt32BE(req.readInt32BE(off + 17), outOff + replyIdOffset);
      return reply.length;
    },
  };
}

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Runs the generated Greeter processor (real handler) on one framed request; returns the framed reply. */
function thriftProcess(Greeter: Any, framedRequest: Buffer): Buffer {
  const input = new thrift.TBinaryProtocol(new thrift.TFramedTransport(framedRequest.subarray(4)));
  let out: Buffer | undefined;
  const output = new thrift.TBinaryProtocol(new thrift.TFramedTransport(undefined, (b: Buffer) => { out = Buffer.from(b); }));
  const processor = new Greeter.Processor({ hello(name: string, cb: Any) { cb(null, `hello ${name}`); } });
  processor.process(input, output);
  if (!out) throw new Error("the Thrift processor wrote no reply");
  return out;
}

/** Decodes a framed reply with the generated client's recv_hello. */
export function thriftDecodeReply(Greeter: Any, framedReply: Buffer): { fname: string; result: unknown } {
  const input = new thrift.TBinaryProtocol(new thrift.TFramedTransport(framedReply.subarray(4)));
  const begin = input.readMessageBegin();
  const client = new Greeter.Client(undefined, thrift.TBinaryProtocol);
  let result: unknown;
  client._reqs[begin.rseqid] = (err: unknown, r: unknown) => { result = err ?? r; };
  client.recv_hello(input, begin.mtype, begin.rseqid);
  return { fname: begin.fname, result };
}

// ---- Dubbo: hessian2, org.example.Greeter.hello(String) ----

const DUBBO_SERVICE = "org.example.Greeter";

/**
 * An attachment every request of the load carries (the fixtures write `path` and `interface`, both the
 * service name): what arm 6's native routes match (bench/envoy/arms.ts). dubboWire checks it is there.
 */
export const DUBBO_ROUTE_ATTACHMENT = { name: "interface", value: DUBBO_SERVICE } as const;

/** The attachments of a hessian2 request frame, decoded by hessian.js (they follow the arguments). */
function dubboAttachments(request: Buffer, args: number): Record<string, unknown> {
  const body = new hessian.DecoderV2(request.subarray(16));
  // dubbo version, service, service version, method, parameter types, then the arguments.
  for (let i = 0; i < 5 + args; i++) body.read();
  return body.read() as Record<string, unknown>;
}

function dubboWire(routedTo?: string): BenchWire {
  // Carrying Meltemi's routing key: the attachment as the filter writes it.
  const request = dubboRequest(0n, "hello", routedTo === undefined ? {} : { [DUBBO_CLUSTER_ATTACHMENT]: routedTo }, DUBBO_SERVICE, "bench");
  const attachments = dubboAttachments(request, 1);
  if (attachments[DUBBO_ROUTE_ATTACHMENT.name] !== DUBBO_ROUTE_ATTACHMENT.value) {
    throw new Error(`dubbo request template: attachments ${JSON.stringify(attachments)} lack ${JSON.stringify(DUBBO_ROUTE_ATTACHMENT)} (arm 6 routes on it)`);
  }
  const reply = dubboAnswer(request);
  const body = new hessian.DecoderV2(reply.subarray(16));
  const status = reply[3];
  const type = body.read();
  const value = body.read();
  if (status !== 20 || type !== 1 || value !== "hello") throw new Error(`dubbo reply template decodes to ${status} ${type} ${value}`);
  return {
    name: "dubbo",
    method: "hello",
    request,
    reply,
    requestIdOffset: 4,
    replyIdOffset: 4,
    idLength: 8,
    frameLength: (b, off, end) => (end - off < 16 ? -1 : 16 + b.readUInt32BE(off + 12)),
    // Ids stay below 2^32: the high word is always 0.
    readId: (b, off) => b.readUInt32BE(off + 8),
    writeId: (b, off, at, id) => { b.writeUInt32BE(0, off + at); b.writeUInt32BE(id >>> 0, off + at + 4); },
    answer(req, off, out, outOff) {
      if (req.readUInt16BE(off) !== 0xdabb) throw new Error(`dubbo upstream: bad magic ${req.subarray(off, off + 16).toString("hex")}`);
      if ((req[off + 2] & 0x20) !== 0) {
        // A heartbeat (none in this benchmark, but a provider must answer one): the real answer.
        const hb = dubboAnswer(Buffer.from(req.subarray(off, off + 16 + req.readUInt32BE(off + 12))));
        hb.copy(out, outOff);
        return hb.length;
      }
      reply.copy(out, outOff);
      req.copy(out, outOff + 4, off + 4, off + 12);
      return reply.length;
    },
  };
}

const cache = new Map<string, BenchWire>();

/**
 * The wire of `name`, built once and checked by Meltemi's codec as well. With `routedTo`, its requests
 * already carry Meltemi's perRequest routing key for that cluster (controller/translate/envoy/routing_key.ts),
 * as if the filter had written it: for a native router behind a filter that writes nothing (arm 9).
 */
export async function benchWire(name: ProtocolName, routedTo?: string): Promise<BenchWire> {
  const key = `${name}|${routedTo ?? ""}`;
  let w = cache.get(key);
  if (w) return w;
  w = name === "thrift" ? thriftWire(routedTo) : dubboWire(routedTo);
  for (const [what, frame, kind] of [["request", w.request, "request"], ["reply", w.reply, "response"]] as const) {
    const r = await decode(name, frame);
    if (r.error || r.frames.length !== 1 || r.frames[0].kind !== kind || r.frames[0].frameLength !== frame.length) {
      throw new Error(`Meltemi's ${name} codec does not read the ${what} template as one ${kind}: ${JSON.stringify(r)}`);
    }
  }
  cache.set(key, w);
  return w;
}

/** The bytes of one answer of the load (the floor module's telemetry mode counts answers by it: arm 10). */
export function answerBytes(name: ProtocolName): number {
  return (name === "thrift" ? thriftWire() : dubboWire()).reply.length;
}

/**
 * `size` copies of a wire's request and of its reply, back to back (one read's worth for the Node host
 * benchmarks); next() gives each pair a fresh id, the same in the request and in its reply.
 */
export class WireBatch {
  readonly requests: Buffer;
  readonly replies: Buffer;
  private id = 1;

  constructor(private readonly wire: BenchWire, readonly size: number) {
    this.requests = Buffer.concat(Array.from({ length: size }, () => wire.request));
    this.replies = Buffer.concat(Array.from({ length: size }, () => wire.reply));
  }

  next(): this {
    const w = this.wire;
    for (let k = 0; k < this.size; k++, this.id++) {
      w.writeId(this.requests, k * w.request.length, w.requestIdOffset, this.id);
      w.writeId(this.replies, k * w.reply.length, w.replyIdOffset, this.id);
    }
    return this;
  }
}
