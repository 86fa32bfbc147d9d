// The request vectors are test/ratelimit/grpc.test.ts's, which the real rate limit service reads as
// meant there; the response vectors are built from the .proto field numbers and decode the same with
// test/ratelimit/grpc.ts's decoder (checked in that test file against the service's real answers).
import { Code, ProtoWriter, RateLimitAnswer, RequestDescriptor, Unit, decodeRateLimitResponse, encodeRateLimitRequest } from "../rls_proto";

function hex(ptr: usize, len: u32): string {
  let s = "";
  for (let i: u32 = 0; i < len; i++) {
    const b = load<u8>(ptr + i);
    s += (b < 16 ? "0" : "") + (<u32>b).toString(16);
  }
  return s;
}

function unhex(s: string): StaticArray<u8> {
  const a = new StaticArray<u8>(s.length >> 1);
  for (let i = 0; i < a.length; i++) a[i] = <u8>I32.parseInt(s.substr(i * 2, 2), 16);
  return a;
}

function descriptor(keys: Array<string>, values: Array<string>, hits: u64): RequestDescriptor {
  const d = new RequestDescriptor();
  for (let i = 0; i < keys.length; i++) {
    d.keys.push(String.UTF8.encode(keys[i]));
    d.values.push(String.UTF8.encode(values[i]));
  }
  d.hitsAddend = hits;
  return d;
}

function decode(s: string, out: RateLimitAnswer): bool {
  const bytes = unhex(s);
  return decodeRateLimitResponse(changetype<usize>(bytes), <u32>bytes.length, out);
}

describe("RateLimitRequest encoding (grpc.test.ts vectors)", () => {
  it("domain, entries, per-descriptor hits_addend", () => {
    const w = new ProtoWriter(256);
    expect(encodeRateLimitRequest(w, String.UTF8.encode("d"), [descriptor(["k"], ["v"], 2)])).toBe(true);
    expect(hex(w.buffer, w.pos)).toBe("0a0164120c0a060a016b1201761a020802");
  });

  it("hits_addend 0 is an empty but present wrapper; the request-level one a plain varint", () => {
    const w = new ProtoWriter(256);
    expect(encodeRateLimitRequest(w, String.UTF8.encode("d"), [descriptor(["k"], ["v"], 0)], 3)).toBe(true);
    expect(hex(w.buffer, w.pos)).toBe("0a0164120a0a060a016b1201761a001803");
  });

  it("values past 127 take more varint bytes", () => {
    const w = new ProtoWriter(256);
    expect(encodeRateLimitRequest(w, String.UTF8.encode("d"), [descriptor([], [], 300)])).toBe(true);
    expect(hex(w.buffer, w.pos)).toBe("0a016412051a0308ac02");
  });

  it("nested entries and two descriptors, lengths past one varint byte", () => {
    const w = new ProtoWriter(1024);
    const long = "x".repeat(200);
    const d1 = descriptor(["generic_key", "header_match"], ["Service[a.ns]-Id[1]", long], 7);
    const d2 = descriptor(["method"], ["sayHello"], 0);
    expect(encodeRateLimitRequest(w, String.UTF8.encode("slime"), [d1, d2])).toBe(true);
    // Hand-checked prefix: domain, then descriptor 1 whose length (260 = 84 02) takes two bytes.
    expect(hex(w.buffer, 10)).toBe("0a05736c696d65128402");
    expect(w.pos).toBe(7 + 3 + 260 + 2 + 22);
  });

  it("fails instead of overflowing a full buffer", () => {
    const w = new ProtoWriter(16);
    expect(encodeRateLimitRequest(w, String.UTF8.encode("d"), [descriptor(["k"], ["a long value here"], 1)])).toBe(false);
    expect(w.pos <= 16).toBe(true);
  });
});

describe("RateLimitResponse decoding", () => {
  it("OK with a limit, remaining and reset", () => {
    const a = new RateLimitAnswer();
    // 08 01 overall OK; 12 0f status {08 01 OK, 12 04 {08 05 rpu 5, 10 04 DAY}, 18 01 remaining 1, 22 03 {08 90 1c 3600 s}}
    expect(decode("0801120f0801120408051004180122030890" + "1c", a)).toBe(true);
    expect(a.overallCode).toBe(Code.Ok);
    expect(a.count).toBe(1);
    expect(a.codes[0]).toBe(<u8>Code.Ok);
    expect(a.hasLimit[0]).toBe(true);
    expect(a.requestsPerUnit[0]).toBe(5);
    expect(a.units[0]).toBe(<u8>Unit.Day);
    expect(a.remaining[0]).toBe(1);
    expect(a.resetSeconds[0]).toBe(3600);
  });

  it("OVER_LIMIT, then a status without current_limit (no limit matched); limit_remaining 0 omitted", () => {
    const a = new RateLimitAnswer();
    // 08 02 overall OVER_LIMIT; 12 0c {08 02, 12 04 {08 05 10 01}, 22 02 {08 01}}; 12 02 {08 01}
    expect(decode("0802120c080212040805100122020801" + "12020801", a)).toBe(true);
    expect(a.overallCode).toBe(Code.OverLimit);
    expect(a.count).toBe(2);
    expect(a.codes[0]).toBe(<u8>Code.OverLimit);
    expect(a.units[0]).toBe(<u8>Unit.Second);
    expect(a.remaining[0]).toBe(0);
    expect(a.codes[1]).toBe(<u8>Code.Ok);
    expect(a.hasLimit[1]).toBe(false);
  });

  it("skips unknown fields of every wire type", () => {
    const a = new RateLimitAnswer();
    // overall OK, field 3 (headers, LEN) skipped, field 9 fixed64 and field 10 fixed32 skipped, status {code OK}
    expect(decode("08011a020a00" + "490102030405060708" + "5501020304" + "12020801", a)).toBe(true);
    expect(a.count).toBe(1);
    expect(a.codes[0]).toBe(<u8>Code.Ok);
  });

  it("rejects truncated and oversized input without trapping", () => {
    const a = new RateLimitAnswer();
    expect(decode("0801120f0801", a)).toBe(false);
    expect(decode("08ffffffffffffffffffff01", a)).toBe(false);
    expect(decode("0f", a)).toBe(false); // wire type 7 does not exist
    expect(decode("", a)).toBe(true);
    expect(a.count).toBe(0);
    expect(a.overallCode).toBe(Code.Unknown);
  });
});
