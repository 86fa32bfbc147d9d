// The two messages of Envoy's rate limit service, encoded and decoded by hand (docs/global-rate-limit.md
// "gRPC, encoded by hand"). Field numbers: envoy/service/ratelimit/v3/rls.proto (RateLimitRequest,
// RateLimitResponse) and envoy/extensions/common/ratelimit/v3/ratelimit.proto (RateLimitDescriptor):
//
//   RateLimitRequest    {1 domain, 2 descriptors (repeated), 3 hits_addend (uint32)}
//   RateLimitDescriptor {1 entries {1 key, 2 value} (repeated), 3 hits_addend (UInt64Value {1 value})}
//   RateLimitResponse   {1 overall_code, 2 statuses (repeated) {1 code, 2 current_limit
//                        {1 requests_per_unit, 2 unit}, 3 limit_remaining, 4 duration_until_reset
//                        {1 seconds, 2 nanos}}}
//
// The same encoding in TypeScript is checked against the running service (test/ratelimit/grpc.ts); the
// spec beside this file uses its byte vectors. Sizes are bounded: the writer has a fixed capacity and
// fails instead of growing, the reader keeps at most MAX_STATUSES statuses and never reads past its end
// (the wire format itself: filter/codec/protobuf.ts).

import { ProtoReader, WIRE_LEN, WIRE_VARINT, varintSize } from "../codec/protobuf";

/** Descriptors in one request (and statuses kept from one answer). */
export const MAX_STATUSES: i32 = 64;

export enum Code { Unknown = 0, Ok = 1, OverLimit = 2 }
/** RateLimitResponse.RateLimit.Unit. */
export enum Unit { Unknown = 0, Second = 1, Minute = 2, Hour = 3, Day = 4, Month = 5, Year = 6 }

/** A protobuf writer into a fixed buffer; `ok` turns false (and stays) when the capacity is exceeded. */
export class ProtoWriter {
  readonly buffer: usize;
  pos: u32 = 0;
  ok: bool = true;
  constructor(public readonly capacity: u32) {
    this.buffer = heap.alloc(capacity);
  }
  reset(): void { this.pos = 0; this.ok = true; }

  private room(n: u32): bool {
    if (!this.ok || this.capacity - this.pos < n) { this.ok = false; return false; }
    return true;
  }
  varint(v: u64): void {
    if (!this.room(varintSize(v))) return;
    while (v >= 0x80) { store<u8>(this.buffer + this.pos++, <u8>(v & 0x7f) | 0x80); v >>= 7; }
    store<u8>(this.buffer + this.pos++, <u8>v);
  }
  tag(field: u32, wire: u32): void { this.varint((<u64>field << 3) | wire); }
  bytes(field: u32, ptr: usize, len: u32): void {
    this.tag(field, WIRE_LEN);
    this.varint(len);
    if (!this.room(len)) return;
    memory.copy(this.buffer + this.pos, ptr, len);
    this.pos += len;
  }
}

/** One descriptor of a request: entries (key, value pairs, UTF-8) and its own hits_addend. */
export class RequestDescriptor {
  keys: Array<ArrayBuffer> = [];
  values: Array<ArrayBuffer> = [];
  /** Sent as a UInt64Value: present with 0 only asks (the service does not count). */
  hitsAddend: u64 = 0;
}

/** Sizes of a descriptor's fields, so that the exact length prefix is written (no padding). */
function entrySize(key: ArrayBuffer, value: ArrayBuffer): u32 {
  const k = <u32>key.byteLength;
  const v = <u32>value.byteLength;
  return 1 + varintSize(k) + k + 1 + varintSize(v) + v;
}

function descriptorSize(d: RequestDescriptor): u32 {
  let n: u32 = 0;
  for (let i = 0; i < d.keys.length; i++) {
    const e = entrySize(unchecked(d.keys[i]), unchecked(d.values[i]));
    n += 1 + varintSize(e) + e;
  }
  const wrapper: u32 = d.hitsAddend == 0 ? 0 : 1 + varintSize(d.hitsAddend);
  return n + 1 + varintSize(wrapper) + wrapper;
}

/**
 * Writes RateLimitRequest{domain, descriptors, hits_addend}. `requestHitsAddend` 0 leaves field 3 out
 * (the service reads 0 as 1 unless a descriptor has its own). Returns false when it did not fit.
 */
export function encodeRateLimitRequest(w: ProtoWriter, domain: ArrayBuffer, descriptors: Array<RequestDescriptor>, requestHitsAddend: u32 = 0): bool {
  w.reset();
  w.bytes(1, changetype<usize>(domain), <u32>domain.byteLength);
  for (let i = 0; i < descriptors.length; i++) {
    const d = unchecked(descriptors[i]);
    w.tag(2, WIRE_LEN);
    w.varint(descriptorSize(d));
    for (let j = 0; j < d.keys.length; j++) {
      const key = unchecked(d.keys[j]);
      const value = unchecked(d.values[j]);
      w.tag(1, WIRE_LEN);
      w.varint(entrySize(key, value));
      w.bytes(1, changetype<usize>(key), <u32>key.byteLength);
      w.bytes(2, changetype<usize>(value), <u32>value.byteLength);
    }
    w.tag(3, WIRE_LEN);
    if (d.hitsAddend == 0) {
      w.varint(0);
    } else {
      w.varint(1 + varintSize(d.hitsAddend));
      w.tag(1, WIRE_VARINT);
      w.varint(d.hitsAddend);
    }
  }
  if (requestHitsAddend != 0) { w.tag(3, WIRE_VARINT); w.varint(requestHitsAddend); }
  return w.ok;
}

/** A RateLimitResponse as the filter uses it; reused between answers (no allocation per answer). */
export class RateLimitAnswer {
  ok: bool = false;
  overallCode: Code = Code.Unknown;
  count: i32 = 0;
  /** Statuses beyond MAX_STATUSES (ignored; the filter never sends more descriptors). */
  dropped: i32 = 0;
  codes: StaticArray<u8> = new StaticArray<u8>(MAX_STATUSES);
  /** Whether the status had a current_limit (no limit matched the descriptor when absent). */
  hasLimit: StaticArray<bool> = new StaticArray<bool>(MAX_STATUSES);
  requestsPerUnit: StaticArray<u32> = new StaticArray<u32>(MAX_STATUSES);
  units: StaticArray<u8> = new StaticArray<u8>(MAX_STATUSES);
  remaining: StaticArray<u32> = new StaticArray<u32>(MAX_STATUSES);
  resetSeconds: StaticArray<u64> = new StaticArray<u64>(MAX_STATUSES);
}

function readLimit(r: ProtoReader, out: RateLimitAnswer, i: i32): void {
  while (!r.done) {
    const key = <u32>r.varint();
    const field = key >> 3;
    const wire = key & 7;
    if (field == 1 && wire == WIRE_VARINT) unchecked(out.requestsPerUnit[i] = <u32>r.varint());
    else if (field == 2 && wire == WIRE_VARINT) unchecked(out.units[i] = <u8>r.varint());
    else r.skip(wire);
  }
}

function readDuration(r: ProtoReader): u64 {
  let seconds: u64 = 0;
  while (!r.done) {
    const key = <u32>r.varint();
    if (key >> 3 == 1 && (key & 7) == WIRE_VARINT) seconds = r.varint();
    else r.skip(key & 7);
  }
  return seconds;
}

function readStatus(r: ProtoReader, out: RateLimitAnswer, i: i32): void {
  unchecked(out.codes[i] = 0);
  unchecked(out.hasLimit[i] = false);
  unchecked(out.requestsPerUnit[i] = 0);
  unchecked(out.units[i] = 0);
  unchecked(out.remaining[i] = 0);
  unchecked(out.resetSeconds[i] = 0);
  while (!r.done) {
    const key = <u32>r.varint();
    const field = key >> 3;
    const wire = key & 7;
    if (field == 1 && wire == WIRE_VARINT) unchecked(out.codes[i] = <u8>r.varint());
    else if (field == 2 && wire == WIRE_LEN) {
      if (!r.len()) break;
      unchecked(out.hasLimit[i] = true);
      const inner = new ProtoReader(r.lenStart, r.lenEnd);
      readLimit(inner, out, i);
      if (!inner.ok) r.ok = false;
    } else if (field == 3 && wire == WIRE_VARINT) unchecked(out.remaining[i] = <u32>r.varint());
    else if (field == 4 && wire == WIRE_LEN) {
      if (!r.len()) break;
      const inner = new ProtoReader(r.lenStart, r.lenEnd);
      unchecked(out.resetSeconds[i] = readDuration(inner));
      if (!inner.ok) r.ok = false;
    } else r.skip(wire);
  }
}

/** Decodes a RateLimitResponse from [ptr, ptr+len) into `out`; out.ok is false when it is malformed. */
export function decodeRateLimitResponse(ptr: usize, len: u32, out: RateLimitAnswer): bool {
  out.ok = false;
  out.overallCode = Code.Unknown;
  out.count = 0;
  out.dropped = 0;
  const r = new ProtoReader(ptr, ptr + len);
  while (!r.done) {
    const key = <u32>r.varint();
    const field = key >> 3;
    const wire = key & 7;
    if (field == 1 && wire == WIRE_VARINT) out.overallCode = <Code><i32>r.varint();
    else if (field == 2 && wire == WIRE_LEN) {
      if (!r.len()) break;
      if (out.count >= MAX_STATUSES) { out.dropped++; continue; }
      const inner = new ProtoReader(r.lenStart, r.lenEnd);
      readStatus(inner, out, out.count);
      if (!inner.ok) { r.ok = false; break; }
      out.count++;
    } else r.skip(wire);
  }
  out.ok = r.ok;
  return r.ok;
}
