import { ByteWriter } from "../../bytes";
import { DecodeError, DecodeStatus, ErrorKind, Limits, Mutation } from "../../codec";
import { Metadata, MessageKind } from "../../metadata";
import { FrameStream } from "../../stream";
import { DubboCodec } from "../codec";
import { H, REQ_HEARTBEAT, REQ_ONE_WAY, REQ_TWO_WAY, RESPONSE, RESPONSE_EVENT, Rng, attachments, frame, requestBody } from "./fixtures";

function codec(): DubboCodec { return new DubboCodec(new Limits()); }

function decodeOne(c: DubboCodec, f: H, md: Metadata): DecodeStatus {
  md.reset();
  return c.decode(f.ptr, f.length, md);
}

function greetRequest(id: i64 = 7): H {
  return frame(REQ_TWO_WAY, 0, id, requestBody("greet", "Ljava/lang/String;I",
    new H().s("world").int(3), attachments(["group", "x-user", "interface"], ["blue", "alice", "ignored"])));
}

function response(flag: i32, tail: H | null, status: u32 = 20): H {
  const body = new H().int(flag);
  if (tail !== null) body.raw(tail);
  return frame(RESPONSE, status, 9, body);
}

function sequence(): H {
  const s = new H();
  s.raw(greetRequest(1));
  s.raw(frame(REQ_HEARTBEAT, 0, 2, new H().nul()));
  s.raw(response(4, new H().s("hello").raw(attachments(["k"], ["v"]))));
  s.raw(frame(REQ_ONE_WAY, 0, 4, requestBody("notify", "[B", new H().b([0x23, 1, 2, 3]), attachments(["a"], ["b"]))));
  s.raw(frame(RESPONSE, 60, 5, new H().s("no provider")));
  return s;
}

function run(data: H, cut1: u32, cut2: u32): string {
  const c = codec();
  const stream = new FrameStream();
  const md = new Metadata();
  let log = "";
  const cuts: u32[] = [cut1, cut2, data.length];
  let start: u32 = 0;
  for (let i = 0; i < cuts.length; i++) {
    if (cuts[i] > start) stream.push(data.ptr + start, cuts[i] - start);
    start = cuts[i];
    while (true) {
      const st = stream.next(c, md);
      if (st == DecodeStatus.NeedMore) break;
      if (st == DecodeStatus.Invalid) return "invalid";
      log += md.kind.toString() + "/" + md.requestId.toString() + "/" + md.frameLength.toString() + "/";
      for (let k = 0; k < md.count; k++) log += md.keyString(k) + "=" + md.valueString(k) + ",";
      log += ";";
      stream.consume(md.frameLength);
    }
  }
  log += "pending " + stream.buffered.toString();
  stream.pending.free();
  return log;
}

/** A request whose argument defines a class (P) that an attachment's object then uses, with attachment k=v. */
function classSharingRequest(): H {
  const args = new H().b([0x43]).s("P").b([0x91]).s("v").b([0x60, 0x91]);
  const att = new H().map().s("obj").b([0x60, 0x92]).s("k").s("v").end();
  return frame(REQ_TWO_WAY, 0, 1, requestBody("m", "Ljava/lang/Object;", args, att));
}

/** `actual` holds the same bytes as `expected`; frees both. */
function expectSameBytes(actual: ByteWriter, expected: ByteWriter): void {
  expect(actual.length).toBe(expected.length);
  expect(memory.compare(actual.ptr, expected.ptr, expected.length)).toBe(0);
  actual.free();
  expected.free();
}

function mutate(c: DubboCodec, f: H, m: Mutation, out: ByteWriter): bool {
  const md = new Metadata();
  expect(decodeOne(c, f, md)).toBe(DecodeStatus.Frame);
  return c.encodeMutated(f.ptr, md, m, out);
}

function decodeOut(c: DubboCodec, out: ByteWriter, md: Metadata): DecodeStatus {
  md.reset();
  return c.decode(out.ptr, out.length, md);
}

describe("DubboCodec.decode", () => {
  it("decodes a request's header, service, method, version, group and attachments", () => {
    const c = codec();
    const md = new Metadata();
    const f = greetRequest(-3);
    expect(decodeOne(c, f, md)).toBe(DecodeStatus.Frame);
    expect(md.kind).toBe(MessageKind.Request);
    expect(md.twoWay).toBe(true);
    expect(md.requestId).toBe(-3);
    expect(md.frameLength).toBe(f.length);
    expect(md.get("interface")!).toBe("org.example.Greeter", "the body's path wins over the attachment");
    expect(md.get("version")!).toBe("1.0.0");
    expect(md.get("method")!).toBe("greet");
    expect(md.get("group")!).toBe("blue");
    expect(md.get("x-user")!).toBe("alice");
    expect(md.count).toBe(5);
    expect(md.codecFlags > 16).toBe(true, "offset of the attachments map");
  });

  it("tells one-way requests, heartbeats and their replies apart", () => {
    const c = codec();
    const md = new Metadata();
    expect(decodeOne(c, frame(REQ_ONE_WAY, 0, 1, requestBody("notify", "", null, attachments([], []))), md)).toBe(DecodeStatus.Frame);
    expect(md.kind).toBe(MessageKind.Oneway);
    expect(md.twoWay).toBe(false);
    expect(decodeOne(c, frame(REQ_HEARTBEAT, 0, 2, new H().nul()), md)).toBe(DecodeStatus.Frame);
    expect(md.kind).toBe(MessageKind.Heartbeat);
    expect(md.twoWay).toBe(true);
    expect(decodeOne(c, frame(0xa2, 0, 3, new H().s("R")), md)).toBe(DecodeStatus.Frame); // one-way event (readonly)
    expect(md.kind).toBe(MessageKind.Heartbeat);
    expect(md.twoWay).toBe(false);
    expect(decodeOne(c, frame(RESPONSE_EVENT, 20, 2, new H().nul()), md)).toBe(DecodeStatus.Frame);
    expect(md.kind).toBe(MessageKind.Heartbeat);
    expect(md.twoWay).toBe(false);
  });

  it("maps response flags 0-5 and non-OK statuses to response or error, with attachments", () => {
    const c = codec();
    const md = new Metadata();
    const att = attachments(["dubbo"], ["2.0.2"]);
    const kinds: MessageKind[] = [MessageKind.Error, MessageKind.Response, MessageKind.Response, MessageKind.Error, MessageKind.Response, MessageKind.Response];
    const values: Array<H | null> = [new H().b([0x43]).s("E").b([0x91]).s("detailMessage").b([0x60]).s("boom"), new H().s("v"), null];
    for (let flag = 0; flag < 6; flag++) {
      const tail = new H();
      const v = values[flag % 3];
      if (v !== null) tail.raw(v);
      if (flag >= 3) tail.raw(att);
      expect(decodeOne(c, response(flag, tail), md)).toBe(DecodeStatus.Frame, "flag " + flag.toString());
      expect(md.kind).toBe(kinds[flag], "flag " + flag.toString());
      expect(md.count).toBe(flag >= 3 ? 1 : 0);
      if (flag >= 3) expect(md.get("dubbo")!).toBe("2.0.2");
    }
    expect(decodeOne(c, frame(RESPONSE, 70, 9, new H().s("failed")), md)).toBe(DecodeStatus.Frame);
    expect(md.kind).toBe(MessageKind.Error);
    const bad = response(6, null);
    expect(decodeOne(c, bad, md)).toBe(DecodeStatus.Invalid);
    expect(c.error).toBe(DecodeError.Malformed);
  });

  it("skips non-string attachment values and null keys or values", () => {
    const c = codec();
    const md = new Metadata();
    const att = new H().map().s("n").int(5).s("obj").b([0x43]).s("T").b([0x90, 0x60]).nul().s("x").s("nullkey").nul().s("k").s("v").end();
    expect(decodeOne(c, frame(REQ_TWO_WAY, 0, 1, requestBody("m", "", null, att)), md)).toBe(DecodeStatus.Frame);
    expect(md.get("k")!).toBe("v");
    expect(md.get("n") === null).toBe(true);
    expect(md.count).toBe(4);
  });

  it("accepts a body that ends after the arguments, and null attachments", () => {
    const c = codec();
    const md = new Metadata();
    expect(decodeOne(c, frame(REQ_TWO_WAY, 0, 1, requestBody("m", "I", new H().int(1), null)), md)).toBe(DecodeStatus.Frame);
    expect(md.codecFlags).toBe(0);
    expect(decodeOne(c, frame(REQ_TWO_WAY, 0, 1, requestBody("m", "I", new H().int(1), new H().nul())), md)).toBe(DecodeStatus.Frame);
    expect(md.count).toBe(3);
  });

  it("needs more bytes for every proper prefix of a frame", () => {
    const c = codec();
    const md = new Metadata();
    const f = greetRequest();
    for (let n: u32 = 0; n < f.length; n++) {
      md.reset();
      expect(c.decode(f.ptr, n, md)).toBe(DecodeStatus.NeedMore, n.toString());
    }
  });

  it("rejects a wrong magic from the first byte, and other serializations", () => {
    const c = codec();
    const md = new Metadata();
    const junk = new H().b([0x47]);
    expect(c.decode(junk.ptr, 1, md)).toBe(DecodeStatus.Invalid);
    expect(c.error).toBe(DecodeError.Malformed);
    const half = new H().b([0xda, 0x00]);
    expect(c.decode(half.ptr, 2, md)).toBe(DecodeStatus.Invalid);
    const json = frame(0xc6, 0, 1, new H().s("{}"));
    expect(decodeOne(c, json, md)).toBe(DecodeStatus.Invalid);
    expect(c.error).toBe(DecodeError.Unsupported);
  });

  it("checks the frame size from the header alone, before the body arrives", () => {
    const limits = new Limits();
    limits.maxFrameBytes = 1024;
    const c = new DubboCodec(limits);
    const md = new Metadata();
    const header = new H().b([0xda, 0xbb, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0x04, 0x00]);
    expect(c.decode(header.ptr, header.length, md)).toBe(DecodeStatus.Invalid);
    expect(c.error).toBe(DecodeError.FrameTooLarge);
    const negative = new H().b([0xda, 0xbb, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0x80, 0, 0, 0]);
    expect(c.decode(negative.ptr, negative.length, md)).toBe(DecodeStatus.Invalid);
    expect(c.error).toBe(DecodeError.Malformed);
  });

  it("enforces the attachment count, value size and depth limits", () => {
    const limits = new Limits();
    limits.maxMetadataEntries = 4;
    limits.maxMetadataValueBytes = 20;
    limits.maxDepth = 3;
    const c = new DubboCodec(limits);
    const md = new Metadata(4);
    const many = frame(REQ_TWO_WAY, 0, 1, requestBody("m", "", null, attachments(["a", "b"], ["1", "2"])));
    expect(decodeOne(c, many, md)).toBe(DecodeStatus.Invalid, "3 body fields + 2 attachments > 4");
    expect(c.error).toBe(DecodeError.TooManyMetadataEntries);
    const long = frame(REQ_TWO_WAY, 0, 1, requestBody("m", "", null, attachments(["a"], ["123456789012345678901"])));
    expect(decodeOne(c, long, md)).toBe(DecodeStatus.Invalid);
    expect(c.error).toBe(DecodeError.MetadataValueTooLarge);
    const chunked = frame(REQ_TWO_WAY, 0, 1, requestBody("m", "", null, new H().map().s("a").b([0x52, 0, 1, 0x61, 0x01, 0x62]).end()));
    expect(decodeOne(c, chunked, md)).toBe(DecodeStatus.Invalid);
    expect(c.error).toBe(DecodeError.Unsupported);
    const deep = frame(REQ_TWO_WAY, 0, 1, requestBody("m", "Ljava/lang/Object;", new H().b([0x79, 0x79, 0x79, 0x79, 0x90]), null));
    expect(decodeOne(c, deep, md)).toBe(DecodeStatus.Invalid);
    expect(c.error).toBe(DecodeError.TooDeep);
    const tooManyRaw = new H().map();
    for (let i = 0; i < 5; i++) tooManyRaw.s("k").int(i);
    expect(decodeOne(c, frame(REQ_TWO_WAY, 0, 1, requestBody("m", "", null, tooManyRaw.end())), md)).toBe(DecodeStatus.Invalid);
    expect(c.error).toBe(DecodeError.TooManyMetadataEntries);
  });

  it("rejects bodies that are not what the header promises", () => {
    const c = codec();
    const md = new Metadata();
    const badTypes = frame(REQ_TWO_WAY, 0, 1, requestBody("m", "Lnope", null, null));
    expect(decodeOne(c, badTypes, md)).toBe(DecodeStatus.Invalid);
    expect(c.error).toBe(DecodeError.Malformed);
    const missingArg = frame(REQ_TWO_WAY, 0, 1, requestBody("m", "II", new H().int(1), null));
    expect(decodeOne(c, missingArg, md)).toBe(DecodeStatus.Invalid);
    const notAMap = frame(REQ_TWO_WAY, 0, 1, requestBody("m", "", null, new H().int(1)));
    expect(decodeOne(c, notAMap, md)).toBe(DecodeStatus.Invalid);
    const emptyBody = frame(REQ_TWO_WAY, 0, 1, new H());
    expect(decodeOne(c, emptyBody, md)).toBe(DecodeStatus.Invalid);
  });
});

describe("DubboCodec on a stream", () => {


  it("yields the same frames for every split point", () => {
    const data = sequence();
    const whole = run(data, data.length, data.length);
    expect(whole.includes("pending 0")).toBe(true, whole);
    expect(whole.split(";").length).toBe(6, whole);
    for (let cut: u32 = 0; cut <= data.length; cut++) {
      expect(run(data, cut, cut)).toBe(whole, "cut at " + cut.toString());
    }
  });

  it("yields the same frames for pairs of split points", () => {
    const data = sequence();
    const whole = run(data, data.length, data.length);
    for (let a: u32 = 1; a < data.length; a += 7) {
      for (let b = a; b < data.length; b += 5) expect(run(data, a, b)).toBe(whole);
    }
  });
});

describe("DubboCodec never traps", () => {
  it("on every truncation of a body whose header claims the truncated length", () => {
    const c = codec();
    const md = new Metadata();
    const full = greetRequest();
    for (let n: u32 = 16; n < full.length; n++) {
      const f = new H();
      f.w.bytes(full.ptr, n);
      store<u32>(f.ptr + 12, bswap<u32>(n - 16));
      const st = decodeOne(c, f, md);
      expect(st == DecodeStatus.Invalid || st == DecodeStatus.Frame).toBe(true, n.toString());
    }
  });

  it("on random byte changes to valid frames and on random bytes", () => {
    const c = codec();
    const md = new Metadata();
    const rng = new Rng();
    const seq = new H();
    seq.raw(greetRequest(1)).raw(response(3, new H().b([0x43]).s("E").b([0x91]).s("m").b([0x60]).s("x").raw(attachments(["a"], ["b"]))));
    const copy = new H();
    copy.raw(seq);
    for (let i = 0; i < 20000; i++) {
      memory.copy(copy.ptr, seq.ptr, seq.length);
      const flips: u32 = 1 + rng.below(4);
      for (let k: u32 = 0; k < flips; k++) {
        const at = 2 + rng.below(seq.length - 2); // keep the magic so that bodies get parsed
        store<u8>(copy.ptr + at, <u8>rng.next());
      }
      md.reset();
      c.decode(copy.ptr, copy.length, md);
    }
    for (let i = 0; i < 2000; i++) {
      for (let k: u32 = 0; k < copy.length; k++) store<u8>(copy.ptr + k, <u8>rng.next());
      store<u16>(copy.ptr, 0xbbda);
      md.reset();
      c.decode(copy.ptr, copy.length, md);
    }
    expect(true).toBe(true);
  });
});

describe("DubboCodec.encodeMutated", () => {


  it("overwrites in place and appends new attachments, fixing the body length", () => {
    const c = codec();
    const out = new ByteWriter();
    expect(mutate(c, greetRequest(), new Mutation().set("x-user", "bob").set("x-route", "canary"), out)).toBe(true);
    const md = new Metadata();
    expect(decodeOut(c, out, md)).toBe(DecodeStatus.Frame);
    expect(md.get("x-user")!).toBe("bob");
    expect(md.get("x-route")!).toBe("canary");
    expect(md.get("group")!).toBe("blue");
    expect(md.get("method")!).toBe("greet");
    expect(md.requestId).toBe(7);
    expect(md.frameLength).toBe(out.length);
    expect(md.keyString(3)).toBe("group", "order kept");
    expect(md.keyString(4)).toBe("x-user", "order kept");
    out.free();
  });

  it("is the identity for an empty mutation and for a key set to its own value", () => {
    const c = codec();
    const f = greetRequest();
    const muts: Mutation[] = [new Mutation(), new Mutation().set("group", "blue")];
    for (let i = 0; i < muts.length; i++) {
      const out = new ByteWriter();
      expect(mutate(c, f, muts[i], out)).toBe(true);
      expect(out.length).toBe(f.length);
      expect(memory.compare(out.ptr, f.ptr, f.length)).toBe(0);
      out.free();
    }
  });

  it("adds a map to a request without one, or in place of null attachments", () => {
    const c = codec();
    const bodies: H[] = [requestBody("m", "I", new H().int(1), null), requestBody("m", "I", new H().int(1), new H().nul())];
    for (let i = 0; i < bodies.length; i++) {
      const out = new ByteWriter();
      expect(mutate(c, frame(REQ_TWO_WAY, 0, 1, bodies[i]), new Mutation().set("k", "v"), out)).toBe(true);
      const md = new Metadata();
      expect(decodeOut(c, out, md)).toBe(DecodeStatus.Frame);
      expect(md.get("k")!).toBe("v");
      out.free();
    }
  });

  it("keeps attachment objects whose class was defined in the arguments", () => {
    const c = codec();
    const out = new ByteWriter();
    expect(mutate(c, classSharingRequest(), new Mutation().set("k", "w"), out)).toBe(true);
    const md = new Metadata();
    expect(decodeOut(c, out, md)).toBe(DecodeStatus.Frame);
    expect(md.get("k")!).toBe("w");
    out.free();
  });

  it("writes the same when another frame was decoded in between (it then decodes the frame again)", () => {
    const f = classSharingRequest();
    const m = new Mutation().set("k", "w");
    const direct = new ByteWriter();
    expect(mutate(codec(), f, m, direct)).toBe(true);
    const c = codec();
    const md = new Metadata();
    expect(decodeOne(c, f, md)).toBe(DecodeStatus.Frame);
    const other = new Metadata();
    expect(decodeOne(c, greetRequest(), other)).toBe(DecodeStatus.Frame);
    const later = new ByteWriter();
    expect(c.encodeMutated(f.ptr, md, m, later)).toBe(true);
    expectSameBytes(later, direct);
  });

  it("gives a response attachments by switching its flag, and refuses events and failed responses", () => {
    const c = codec();
    const out = new ByteWriter();
    expect(mutate(c, response(1, new H().s("v")), new Mutation().set("k", "v"), out)).toBe(true);
    expect(load<u8>(out.ptr + 16)).toBe(0x94);
    const md = new Metadata();
    expect(decodeOut(c, out, md)).toBe(DecodeStatus.Frame);
    expect(md.kind).toBe(MessageKind.Response);
    expect(md.get("k")!).toBe("v");
    out.clear();
    expect(mutate(c, frame(REQ_HEARTBEAT, 0, 2, new H().nul()), new Mutation().set("k", "v"), out)).toBe(false);
    expect(mutate(c, frame(RESPONSE, 70, 2, new H().s("x")), new Mutation().set("k", "v"), out)).toBe(false);
    expect(out.length).toBe(0);
    out.free();
  });

  it("refuses a mutation that would exceed the frame limit, writing nothing", () => {
    const limits = new Limits();
    limits.maxFrameBytes = 200;
    const c = new DubboCodec(limits);
    const out = new ByteWriter();
    expect(mutate(c, greetRequest(), new Mutation().set("big", "x".repeat(300)), out)).toBe(false);
    expect(out.length).toBe(0);
    out.free();
  });
});

describe("DubboCodec replies", () => {
  it("writes an error reply per kind that decodes as an error with the request's id", () => {
    const c = codec();
    const md = new Metadata();
    expect(decodeOne(c, greetRequest(-42), md)).toBe(DecodeStatus.Frame);
    const kinds: ErrorKind[] = [ErrorKind.OverLimit, ErrorKind.Unauthorized, ErrorKind.FaultAbort, ErrorKind.NoRoute, ErrorKind.BadRequest];
    const statuses: u8[] = [100, 70, 70, 60, 40];
    for (let i = 0; i < kinds.length; i++) {
      const out = new ByteWriter();
      c.respond(kinds[i], "meltemi: nope", md, out);
      expect(load<u8>(out.ptr + 2)).toBe(0x02, "a response, hessian2");
      expect(load<u8>(out.ptr + 3)).toBe(statuses[i]);
      expect(bswap<u32>(load<u32>(out.ptr + 12))).toBe(14, "body: the message as a hessian2 string");
      expect(load<u8>(out.ptr + 16)).toBe(13);
      const reply = new Metadata();
      expect(c.decode(out.ptr, out.length, reply)).toBe(DecodeStatus.Frame);
      expect(reply.kind).toBe(MessageKind.Error);
      expect(reply.requestId).toBe(-42);
      out.free();
    }
  });

  it("answers a heartbeat with an event response holding null", () => {
    const c = codec();
    const md = new Metadata();
    expect(decodeOne(c, frame(REQ_HEARTBEAT, 0, 0x0102030405060708, new H().nul()), md)).toBe(DecodeStatus.Frame);
    const out = new ByteWriter();
    c.encodeHeartbeatReply(md, out);
    const expected: u8[] = [0xda, 0xbb, 0x22, 20, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 1, 0x4e];
    expect(out.length).toBe(<u32>expected.length);
    for (let i = 0; i < expected.length; i++) expect(load<u8>(out.ptr + i)).toBe(expected[i], i.toString());
    out.free();
  });
});

function lazyCodec(limits: Limits = new Limits()): DubboCodec {
  const c = new DubboCodec(limits);
  c.lazy = true;
  return c;
}

/** Every entry of `md`, "key=value;" in order (a full decode's view). */
function entries(md: Metadata): string {
  let s = "";
  for (let i = 0; i < md.count; i++) s += md.keyString(i) + "=" + md.valueString(i) + ";";
  return s;
}

describe("DubboCodec, lazily (Codec.lazy)", () => {
  it("stops after a request's method; the method's lookup leaves the rest, the service's or an attachment's decodes it", () => {
    const c = lazyCodec();
    const md = new Metadata();
    const f = greetRequest(5);
    expect(decodeOne(c, f, md)).toBe(DecodeStatus.Frame);
    expect(md.requestId).toBe(5);
    expect(md.frameLength).toBe(f.length);
    expect(md.hasLater).toBe(true);
    expect(md.count).toBe(3, "interface, version, method");
    expect(md.get("method")!).toBe("greet");
    expect(md.hasLater).toBe(true, "the method is the body's alone");
    expect(md.get("interface")!).toBe("org.example.Greeter", "an attachment of a body field's name cannot win");
    expect(md.hasLater).toBe(false, "the service is checked against the `path` attachment");
    expect(md.get("x-user")!).toBe("alice");
    expect(md.laterFailed).toBe(false);
    const full = new Metadata();
    expect(decodeOne(codec(), f, full)).toBe(DecodeStatus.Frame);
    expect(entries(md)).toBe(entries(full));
    expect(md.codecFlags).toBe(full.codecFlags);
  });

  it("defers a response's value and attachments, and decodes them on a lookup", () => {
    const c = lazyCodec();
    const md = new Metadata();
    expect(decodeOne(c, response(4, new H().s("hello").raw(attachments(["k"], ["v"]))), md)).toBe(DecodeStatus.Frame);
    expect(md.kind).toBe(MessageKind.Response);
    expect(md.hasLater).toBe(true);
    expect(md.get("method") === null).toBe(true);
    expect(md.hasLater).toBe(true);
    expect(md.get("k")!).toBe("v");
    expect(md.hasLater).toBe(false);
  });

  it("reports an invalid rest through laterFailed and the codec's error, as a full decode would refuse it", () => {
    const limits = new Limits();
    limits.maxMetadataEntries = 4;
    const c = lazyCodec(limits);
    const md = new Metadata(4);
    const many = frame(REQ_TWO_WAY, 0, 1, requestBody("m", "", null, attachments(["a", "b"], ["1", "2"])));
    expect(decodeOne(c, many, md)).toBe(DecodeStatus.Frame);
    expect(md.get("b") === null).toBe(true);
    expect(md.laterFailed).toBe(true);
    expect(c.error).toBe(DecodeError.TooManyMetadataEntries);
    const missingArg = frame(REQ_TWO_WAY, 0, 2, requestBody("m", "II", new H().int(1), null));
    expect(decodeOne(c, missingArg, md)).toBe(DecodeStatus.Frame);
    expect(md.laterFailed).toBe(false, "reset by the next decode");
    expect(md.complete()).toBe(false);
    expect(md.laterFailed).toBe(true);
    expect(c.error).toBe(DecodeError.Malformed);
  });

  it("never reads a frame's rest after another frame was decoded: the lookup misses and the frame fails", () => {
    const c = lazyCodec();
    const first = new Metadata();
    const second = new Metadata();
    expect(decodeOne(c, greetRequest(1), first)).toBe(DecodeStatus.Frame);
    expect(decodeOne(c, greetRequest(2), second)).toBe(DecodeStatus.Frame);
    expect(first.get("x-user") === null).toBe(true);
    expect(first.laterFailed).toBe(true);
    expect(second.get("x-user")!).toBe("alice");
  });

  it("mutates a lazily decoded frame byte for byte as a fully decoded one", () => {
    const f = classSharingRequest();
    const m = new Mutation().set("k", "w").set("new", "x");
    const direct = new ByteWriter();
    expect(mutate(codec(), f, m, direct)).toBe(true);
    const lazy = new ByteWriter();
    expect(mutate(lazyCodec(), f, m, lazy)).toBe(true);
    expectSameBytes(lazy, direct);
  });

  it("agrees with a full decode on random changes to valid frames: same status, same error, same entries", () => {
    const full = codec();
    const lazy = lazyCodec();
    const a = new Metadata();
    const b = new Metadata();
    const rng = new Rng();
    const seq = new H();
    seq.raw(greetRequest(1)).raw(response(3, new H().b([0x43]).s("E").b([0x91]).s("m").b([0x60]).s("x").raw(attachments(["a"], ["b"]))));
    const copy = new H();
    copy.raw(seq);
    let frames = 0;
    let failedLater = 0;
    for (let i = 0; i < 20000; i++) {
      memory.copy(copy.ptr, seq.ptr, seq.length);
      const flips: u32 = 1 + rng.below(4);
      for (let k: u32 = 0; k < flips; k++) store<u8>(copy.ptr + 2 + rng.below(seq.length - 2), <u8>rng.next());
      const sf = decodeOne(full, copy, a);
      let sl = decodeOne(lazy, copy, b);
      if (sl == DecodeStatus.Frame && !b.complete()) { sl = DecodeStatus.Invalid; failedLater++; }
      expect(sl).toBe(sf, i.toString());
      if (sf == DecodeStatus.Invalid) expect(lazy.error).toBe(full.error, i.toString());
      if (sf == DecodeStatus.Frame) { frames++; expect(entries(b)).toBe(entries(a), i.toString()); }
    }
    expect(frames > 1000 && failedLater > 100).toBe(true, "both outcomes exercised");
  });
});

describe("DubboCodec: the service and version a provider serves", () => {
  it("refuses a request whose `path` or `version` attachment differs from its body, lazily or not", () => {
    const bad: H[] = [
      frame(REQ_TWO_WAY, 0, 1, requestBody("m", "", null, attachments(["path"], ["org.example.Admin"]))),
      frame(REQ_TWO_WAY, 0, 2, requestBody("m", "", null, attachments(["version"], ["2.0.0"]))),
      frame(REQ_TWO_WAY, 0, 3, requestBody("m", "", null, new H().map().s("path").int(1).end())),
    ];
    for (let i = 0; i < bad.length; i++) {
      const md = new Metadata();
      expect(decodeOne(codec(), bad[i], md)).toBe(DecodeStatus.Invalid, i.toString());
      const lazy = lazyCodec();
      expect(decodeOne(lazy, bad[i], md)).toBe(DecodeStatus.Frame);
      expect(md.get("method")!).toBe("m", "the method alone does not decode the rest");
      expect(md.get("interface") === null).toBe(true, i.toString());
      expect(md.laterFailed).toBe(true);
      expect(lazy.error).toBe(DecodeError.Malformed);
    }
  });

  it("accepts `path` and `version` attachments equal to the body's, and a null version in both", () => {
    const same = frame(REQ_TWO_WAY, 0, 1, requestBody("m", "", null, attachments(["path", "version"], ["org.example.Greeter", "1.0.0"])));
    const md = new Metadata();
    expect(decodeOne(codec(), same, md)).toBe(DecodeStatus.Frame);
    expect(md.get("path")!).toBe("org.example.Greeter");
    const body = new H().s("2.0.2").s("org.example.Greeter").nul().s("m").s("").raw(new H().map().s("version").nul().end());
    expect(decodeOne(codec(), frame(REQ_TWO_WAY, 0, 2, body), md)).toBe(DecodeStatus.Frame);
    expect(md.get("version") === null).toBe(true);
  });
});
