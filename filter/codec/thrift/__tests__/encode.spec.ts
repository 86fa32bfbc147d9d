import { ByteWriter } from "../../bytes";
import { DecodeStatus, ErrorKind, Limits, Mutation } from "../../codec";
import { Metadata } from "../../metadata";
import { ThriftCodec } from "../codec";
import { Protocol, Transport, wireFlags } from "../wire";
import {
  BINARY, COMPACT, COMPACT_HELLO_10, ENVOY_THEADER, ENVOY_THEADER_PREFIX, LAX, decodeN, framed, hex, writerHex,
} from "./fixtures";

const HELLO = "68656c6c6f";
const NO = "6e6f";

function decoded(codec: ThriftCodec, w: ByteWriter, md: Metadata): void {
  expect(decodeN(codec, w, w.length, md)).toBe(DecodeStatus.Frame, codec.errorDetail);
}

function errorReply(request: ByteWriter, kind: ErrorKind, message: string): string {
  const codec = new ThriftCodec(new Limits());
  const md = new Metadata();
  decoded(codec, request, md);
  const out = new ByteWriter();
  codec.respond(kind, message, md, out);
  return writerHex(out);
}

function mutated(request: ByteWriter, m: Mutation): string {
  const codec = new ThriftCodec(new Limits());
  const md = new Metadata();
  decoded(codec, request, md);
  const out = new ByteWriter();
  if (!codec.encodeMutated(request.ptr, md, m, out)) return "refused, wrote " + out.length.toString();
  return writerHex(out);
}

function forClient(reply: ByteWriter, clientFlags: u32): string {
  const codec = new ThriftCodec(new Limits());
  const md = new Metadata();
  decoded(codec, reply, md);
  const out = new ByteWriter();
  if (!codec.encodeForClient(reply.ptr, md, clientFlags, out)) return "refused, wrote " + out.length.toString();
  return writerHex(out);
}

/** The request routed to `cluster`; `md` is left holding the decoded result. */
function routed(request: ByteWriter, m: Mutation, cluster: string, md: Metadata): ByteWriter {
  const codec = new ThriftCodec(new Limits());
  decoded(codec, request, md);
  const out = new ByteWriter();
  expect(codec.encodeRouted(request.ptr, md, m, cluster, out)).toBe(true);
  md.reset();
  decoded(new ThriftCodec(new Limits()), out, md);
  return out;
}

describe("Thrift error replies", () => {
  it("is a TApplicationException in the request's transport and protocol", () => {
    // binary: 0x80010003 (EXCEPTION), name, seqid, {1: string message, 2: i32 type}, STOP
    const binaryBody = "0b0001" + "00000002" + NO + "080002" + "00000006" + "00";
    expect(errorReply(hex(BINARY), ErrorKind.OverLimit, "no")).toBe("80010003" + "00000005" + HELLO + "00000001" + binaryBody);
    expect(errorReply(framed(hex(BINARY)), ErrorKind.OverLimit, "no")).toBe("00000022" + "80010003" + "00000005" + HELLO + "00000001" + binaryBody);
    expect(errorReply(hex(LAX), ErrorKind.OverLimit, "no")).toBe("00000005" + HELLO + "03" + "00000001" + binaryBody);
    // compact: 0x82, (3 << 5) | 1, varint seqid, name; field 1 binary (0x18), field 2 i32 (0x15) zigzag 6 = 12
    const compact = "82" + "61" + "01" + "05" + HELLO + "18" + "02" + NO + "15" + "0c" + "00";
    expect(errorReply(hex(COMPACT), ErrorKind.OverLimit, "no")).toBe(compact);
    expect(errorReply(framed(hex(COMPACT)), ErrorKind.OverLimit, "no")).toBe("00000010" + compact);
    // THeader: same protocol id, the request's seqid, no headers; header data padded like Envoy and lib/cpp.
    const compact10 = "82" + "61" + "0a" + "05" + HELLO + "18" + "02" + NO + "15" + "0c" + "00";
    expect(errorReply(hex(ENVOY_THEADER), ErrorKind.OverLimit, "no")).toBe("0000001e" + "0fff0000" + "0000000a" + "0001" + "02000000" + compact10);
  });

  it("maps each ErrorKind to its TApplicationException type", () => {
    const kinds: ErrorKind[] = [ErrorKind.OverLimit, ErrorKind.Unauthorized, ErrorKind.FaultAbort, ErrorKind.NoRoute, ErrorKind.BadRequest];
    const types: string[] = ["00000006", "00000000", "00000006", "00000001", "00000007"];
    for (let i = 0; i < kinds.length; i++) {
      const reply = errorReply(hex(BINARY), kinds[i], "no");
      expect(reply.slice(reply.length - 10, reply.length - 2)).toBe(types[i]);
    }
  });

  it("names the bare method of a multiplexed call, as TMultiplexedProcessor does", () => {
    const w = new ByteWriter();
    w.u32(0x80010001); w.u32(14); w.utf8("Calculator:add"); w.u32(3); w.u8(0);
    expect(errorReply(w, ErrorKind.NoRoute, "").startsWith("80010003" + "00000003" + "616464" + "00000003")).toBe(true);
  });

  it("writes a probe: a call of an undeclarable method with the request's seqid, keeping the service", () => {
    const probe = (request: ByteWriter): string => {
      const codec = new ThriftCodec(new Limits());
      const md = new Metadata();
      decoded(codec, request, md);
      const out = new ByteWriter();
      expect(codec.probe(md, null, out)).toBe(true);
      return writerHex(out);
    };
    const PROBE = "6d656c74656d692d70726f6265"; // meltemi-probe
    expect(probe(hex(BINARY))).toBe("80010001" + "0000000d" + PROBE + "00000001" + "00");
    expect(probe(framed(hex(COMPACT)))).toBe("00000012" + "8221" + "01" + "0d" + PROBE + "00");
    expect(probe(hex(LAX))).toBe("0000000d" + PROBE + "01" + "00000001" + "00");
    expect(probe(hex(ENVOY_THEADER))).toBe("00000020" + "0fff0000" + "0000000a" + "0001" + "02000000" + "82210a0d" + PROBE + "00");
    const mux = new ByteWriter();
    mux.u32(0x80010001); mux.u32(14); mux.utf8("Calculator:add"); mux.u32(3); mux.u8(0);
    expect(probe(mux)).toBe("80010001" + "00000018" + "43616c63756c61746f723a" + PROBE + "00000003" + "00");
  });

  it("routes a probe (probe with a cluster) like encodeRouted routes the probe's bytes", () => {
    const requests: ByteWriter[] = [hex(BINARY), framed(hex(COMPACT)), hex(LAX), hex(ENVOY_THEADER)];
    for (let i = 0; i < requests.length; i++) {
      const codec = new ThriftCodec(new Limits());
      const md = new Metadata();
      decoded(codec, requests[i], md);
      const direct = new ByteWriter();
      codec.probe(md, "c1", direct);
      const plain = new ByteWriter();
      codec.probe(md, null, plain);
      const probeMd = new Metadata();
      decoded(codec, plain, probeMd);
      const viaRouted = new ByteWriter();
      expect(codec.encodeRouted(plain.ptr, probeMd, new Mutation(), "c1", viaRouted)).toBe(true);
      expect(writerHex(direct)).toBe(writerHex(viaRouted));
    }
  });

});

describe("Thrift mutation", () => {
  it("leaves a frame byte for byte as it was with an empty mutation", () => {
    const vectors: string[] = [BINARY, COMPACT, LAX];
    for (let i = 0; i < vectors.length; i++) {
      expect(mutated(hex(vectors[i]), new Mutation())).toBe(vectors[i]);
      expect(mutated(framed(hex(vectors[i])), new Mutation())).toBe(writerHex(framed(hex(vectors[i]))));
    }
    expect(mutated(hex(ENVOY_THEADER), new Mutation())).toBe(ENVOY_THEADER);
  });

  it("converts a framed or unframed request to THeader exactly as Envoy's encoder writes the same headers", () => {
    const m = new Mutation().set("key", "value").set("", "");
    expect(mutated(framed(hex(COMPACT_HELLO_10)), m)).toBe(ENVOY_THEADER);
    expect(mutated(hex(COMPACT_HELLO_10), m)).toBe(ENVOY_THEADER);
  });

  it("writes non-strict binary as strict binary inside THeader", () => {
    // header data: binary, no transforms, 1 key/value k=v: 8 bytes, padded with 4 (lib/cpp, Envoy)
    const expected = "00000032" + "0fff0000" + "00000001" + "0003" + "00000101016b0176" + "00000000" + BINARY;
    expect(mutated(hex(LAX), new Mutation().set("k", "v"))).toBe(expected);
    expect(mutated(framed(hex(LAX)), new Mutation().set("k", "v"))).toBe(expected);
  });

  it("overwrites THeader headers in place, appends new ones, keeps flags, seqid and unknown info blocks", () => {
    // flags 0x0001, header seqid 99 (not the message's), headers a=1 b=2, then an unknown info block 02 aa bb
    const payload = hex(BINARY);
    const h = new ByteWriter();
    h.u16(0x0fff); h.u16(1); h.u32(99); h.u16(4);
    const data = hex("0000" + "0102" + "016101" + "31" + "016201" + "32" + "02aabb" + "00");
    h.bytes(data.ptr, data.length);
    h.bytes(payload.ptr, payload.length);
    const request = framed(h);
    const out = mutated(request, new Mutation().set("b", "two").set("c", "3"));
    // data: 00 00 01 03 | 01 61 01 31 | 01 62 03 74776f | 01 63 01 33 | 02 aa bb 00 (kept tail) | padding 2
    const expectedData = "0000" + "0103" + "0161" + "0131" + "0162" + "0374776f" + "0163" + "0133" + "02aabb00" + "0000";
    expect(out).toBe("0000003e" + "0fff0001" + "00000063" + "0006" + expectedData + BINARY);
    const codec = new ThriftCodec(new Limits());
    const md = new Metadata();
    decoded(codec, hex(out), md);
    expect(md.get("a")).toBe("1");
    expect(md.get("b")).toBe("two");
    expect(md.get("c")).toBe("3");
    expect(md.requestId).toBe(1);
  });

  it("refuses, writing nothing, what Envoy could not read back", () => {
    const long = "x".repeat(32768);
    expect(mutated(hex(BINARY), new Mutation().set("k", long))).toBe("refused, wrote 0");
    const ok = long.slice(1);
    expect(mutated(hex(BINARY), new Mutation().set("k", ok)).length).toBeGreaterThan(0);
    // Header data over 64 KiB
    const m = new Mutation().set("k1", ok).set("k2", ok).set("k3", ok);
    expect(mutated(hex(BINARY), m)).toBe("refused, wrote 0");
  });
});

describe("Thrift routing for thrift_proxy (perRequest)", () => {
  it("prefixes the message name with the cluster, in the request's own transport and protocol", () => {
    const md = new Metadata();
    const cluster = "outbound|9090|v2|svc";
    const prefixed = "0000001a" + "6f7574626f756e647c393039307c76327c7376633a" + HELLO; // "outbound|9090|v2|svc:hello"
    const m = new Mutation().set("x-meltemi-cluster", cluster).set("tenant", "a");
    expect(writerHex(routed(framed(hex(BINARY)), m, cluster, md)))
      .toBe("00000031" + "80010001" + prefixed + "00000001" + "0b000100000003626f6200");
    expect(md.get("service")).toBe(cluster);
    expect(md.get("method")).toBe("hello");
    expect(md.get("tenant")).toBeNull(); // a framed client keeps its transport: no headers
    const vectors: string[] = [BINARY, COMPACT, LAX];
    for (let i = 0; i < vectors.length; i++) {
      for (let f = 0; f < 2; f++) {
        const request = f == 0 ? hex(vectors[i]) : framed(hex(vectors[i]));
        const out = routed(request, m, cluster, md);
        expect(out.length).toBe(request.length + 21);
        expect(md.get("service")).toBe(cluster);
        expect(md.get("method")).toBe("hello");
        expect(md.requestId).toBe(1);
      }
    }
  });

  it("keeps a multiplexed name after the cluster, and gives a THeader request the headers too", () => {
    const md = new Metadata();
    const mux = new ByteWriter();
    mux.u32(0x80010001); mux.u32(14); mux.utf8("Calculator:add"); mux.u32(3); mux.u8(0);
    routed(mux, new Mutation(), "c1", md);
    expect(md.get("service")).toBe("c1");
    expect(md.get("method")).toBe("Calculator:add");
    routed(hex(ENVOY_THEADER), new Mutation().set("x-meltemi-cluster", "c1"), "c1", md);
    expect(md.get("key")).toBe("value");
    expect(md.get("x-meltemi-cluster")).toBe("c1");
    expect(md.get("service")).toBe("c1");
    expect(md.get("method")).toBe("hello");
    expect(md.requestId).toBe(10);
  });
});

describe("Thrift replies for the client's transport", () => {
  it("turns a THeader reply back into the client's framed or unframed binary, strict or not", () => {
    // reply to hello (seqid 1): {0: string "hi"}
    const strict = "80010002" + "00000005" + HELLO + "00000001" + "0b0000" + "00000002" + "6869" + "00";
    const lax = "00000005" + HELLO + "02" + "00000001" + "0b0000" + "00000002" + "6869" + "00";
    const reply = framed(hex("0fff0000" + "00000001" + "0002" + "0000010101" + "6b01" + "76" + strict));
    expect(forClient(reply, wireFlags(Transport.Framed, Protocol.Binary))).toBe(writerHex(framed(hex(strict))));
    expect(forClient(reply, wireFlags(Transport.Unframed, Protocol.Binary))).toBe(strict);
    expect(forClient(reply, wireFlags(Transport.Framed, Protocol.LaxBinary))).toBe(writerHex(framed(hex(lax))));
    expect(forClient(reply, wireFlags(Transport.Unframed, Protocol.LaxBinary))).toBe(lax);
    expect(forClient(reply, wireFlags(Transport.Header, Protocol.Binary))).toBe(writerHex(reply));
    expect(forClient(reply, wireFlags(Transport.Framed, Protocol.Compact))).toBe("refused, wrote 0");
    // and the other way: a framed reply for a THeader client
    expect(forClient(framed(hex(strict)), wireFlags(Transport.Header, Protocol.Binary)))
      .toBe("00000029" + "0fff0000" + "00000001" + "0001" + "00000000" + strict);
  });

  it("turns a THeader compact reply into framed or unframed compact", () => {
    const compact = "8241010568656c6c6f" + "00";
    const reply = framed(hex("0fff0000" + "00000001" + "0001" + "02000000" + compact));
    expect(forClient(reply, wireFlags(Transport.Framed, Protocol.Compact))).toBe(writerHex(framed(hex(compact))));
    expect(forClient(reply, wireFlags(Transport.Unframed, Protocol.Compact))).toBe(compact);
    expect(forClient(reply, wireFlags(Transport.Unframed, Protocol.Binary))).toBe("refused, wrote 0");
  });
});
