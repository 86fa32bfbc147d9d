// A trace context as callers send it in request metadata (Dubbo attachments, Thrift THeader headers),
// in the three formats Meltemi reads:
// - W3C Trace Context `traceparent`: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`, flags bit 0
//   = sampled (https://www.w3.org/TR/trace-context/). `tracestate` rides along untouched.
// - B3 single `b3`: `<16|32 hex trace id>-<16 hex span id>[-<1|0|d>[-<16 hex parent id>]]`, or only
//   the sampling state (`0`, `1`, `d`) (openzipkin/b3-propagation, "Single Header").
// - B3 multi `X-B3-TraceId`, `X-B3-SpanId`, `X-B3-ParentSpanId`, `X-B3-Sampled` (`1`/`0`, older
//   tracers `true`/`false`), `X-B3-Flags: 1` = debug (which implies sampled).
// Keys are matched without regard to case: Brave and OpenTelemetry write `X-B3-TraceId`, HTTP/2 and
// some Dubbo versions lowercase keys; the key as it was received is kept so that the forwarded value
// replaces it rather than adding a second entry.

export enum Sampling { Defer = 0, Accept = 1, Deny = 2 }

/** Which formats a request carried (bit set), which are also the formats its context is forwarded in. */
export const FORMAT_W3C: u8 = 1;
export const FORMAT_B3_SINGLE: u8 = 2;
export const FORMAT_B3_MULTI: u8 = 4;

export class TraceContext {
  traceHi: u64 = 0;
  traceLo: u64 = 0;
  /** The caller's span: the parent of Meltemi's span. */
  spanId: u64 = 0;
  sampling: Sampling = Sampling.Defer;
  /** A trace id of 16 hex digits (64 bits) is forwarded in B3 as it came. */
  shortTraceId: bool = false;
  /** True when ids were read (a sampling-only `b3: 1` leaves it false). */
  hasIds: bool = false;

  reset(): void {
    this.traceHi = 0;
    this.traceLo = 0;
    this.spanId = 0;
    this.sampling = Sampling.Defer;
    this.shortTraceId = false;
    this.hasIds = false;
  }
}

// ---- hex ----

function hexDigit(c: u32): i32 {
  if (c >= 0x30 && c <= 0x39) return <i32>(c - 0x30);
  if (c >= 0x61 && c <= 0x66) return <i32>(c - 0x61 + 10);
  if (c >= 0x41 && c <= 0x46) return <i32>(c - 0x41 + 10);
  return -1;
}

/** Parses `len` (1..16) hex digits at ptr; false on any other byte. */
function parseHex64(ptr: usize, len: u32, out: StaticArray<u64>, at: i32): bool {
  let v: u64 = 0;
  for (let i: u32 = 0; i < len; i++) {
    const d = hexDigit(<u32>load<u8>(ptr + i));
    if (d < 0) return false;
    v = (v << 4) | <u64>d;
  }
  unchecked(out[at] = v);
  return true;
}

const parsed = new StaticArray<u64>(3);

/** A trace id of 16 or 32 hex digits, not all zero. */
function parseTraceId(ptr: usize, len: u32, ctx: TraceContext): bool {
  if (len == 32) {
    if (!parseHex64(ptr, 16, parsed, 0) || !parseHex64(ptr + 16, 16, parsed, 1)) return false;
    ctx.shortTraceId = false;
  } else if (len == 16) {
    unchecked(parsed[0] = 0);
    if (!parseHex64(ptr, 16, parsed, 1)) return false;
    ctx.shortTraceId = true;
  } else return false;
  if (unchecked(parsed[0]) == 0 && unchecked(parsed[1]) == 0) return false;
  ctx.traceHi = unchecked(parsed[0]);
  ctx.traceLo = unchecked(parsed[1]);
  return true;
}

/** A span id: exactly 16 hex digits, not zero. */
function parseSpanId(ptr: usize, len: u32): u64 {
  if (len != 16 || !parseHex64(ptr, 16, parsed, 2)) return 0;
  return unchecked(parsed[2]);
}

const HEX_DIGITS = memory.data<u8>([0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66]);
const hexScratch = memory.data(16);

/** `digits` (at most 16) lowercase hex digits of v (the low ones), zero-padded; one allocation. */
export function hex(v: u64, digits: i32): string {
  for (let i = 0; i < digits; i++) {
    store<u8>(hexScratch + <usize>i, load<u8>(HEX_DIGITS + <usize>((v >> (<u64>(digits - 1 - i) * 4)) & 0xf)));
  }
  return String.UTF8.decodeUnsafe(hexScratch, <usize>digits);
}

function putHex(at: usize, v: u64, digits: i32): void {
  for (let i = 0; i < digits; i++) store<u8>(at + <usize>i, load<u8>(HEX_DIGITS + <usize>((v >> (<u64>(digits - 1 - i) * 4)) & 0xf)));
}

const traceparentScratch = memory.data(55);

/** `00-<trace>-<span>-01` (sampled), built in one allocation. */
export function traceparentValue(hi: u64, lo: u64, span: u64): string {
  const p = traceparentScratch;
  store<u8>(p, 0x30); store<u8>(p + 1, 0x30); store<u8>(p + 2, 0x2d);
  putHex(p + 3, hi, 16);
  putHex(p + 19, lo, 16);
  store<u8>(p + 35, 0x2d);
  putHex(p + 36, span, 16);
  store<u8>(p + 52, 0x2d); store<u8>(p + 53, 0x30); store<u8>(p + 54, 0x31);
  return String.UTF8.decodeUnsafe(p, 55);
}

export function traceIdHex(hi: u64, lo: u64, short: bool): string {
  return short && hi == 0 ? hex(lo, 16) : hex(hi, 16) + hex(lo, 16);
}

// ---- parsers: each fills ctx and returns true when the value holds a usable context ----

/** `traceparent`. Version ff is invalid; a later version is read by its first four fields (W3C: "future versions"). */
export function parseTraceparent(ptr: usize, len: u32, ctx: TraceContext): bool {
  if (len < 55) return false;
  if (load<u8>(ptr + 2) != 0x2d || load<u8>(ptr + 35) != 0x2d || load<u8>(ptr + 52) != 0x2d) return false;
  const v0 = hexDigit(<u32>load<u8>(ptr)), v1 = hexDigit(<u32>load<u8>(ptr + 1));
  if (v0 < 0 || v1 < 0 || (v0 == 15 && v1 == 15)) return false;
  if (v0 == 0 && v1 == 0 && len != 55) return false;
  if (len > 55 && load<u8>(ptr + 55) != 0x2d) return false;
  if (!parseTraceId(ptr + 3, 32, ctx)) return false;
  const span = parseSpanId(ptr + 36, 16);
  if (span == 0) return false;
  const f0 = hexDigit(<u32>load<u8>(ptr + 53)), f1 = hexDigit(<u32>load<u8>(ptr + 54));
  if (f0 < 0 || f1 < 0) return false;
  ctx.spanId = span;
  ctx.sampling = (f1 & 1) != 0 ? Sampling.Accept : Sampling.Deny;
  ctx.hasIds = true;
  return true;
}

function samplingOf(ptr: usize, len: u32): i32 {
  if (len == 1) {
    const c = load<u8>(ptr);
    if (c == 0x31 || c == 0x64) return <i32>Sampling.Accept; // 1, d (debug)
    if (c == 0x30) return <i32>Sampling.Deny;
    return -1;
  }
  // Older B3 multi tracers wrote true/false.
  if (len == 4 && load<u32>(ptr) == 0x65757274) return <i32>Sampling.Accept;
  if (len == 5 && load<u32>(ptr) == 0x736c6166 && load<u8>(ptr + 4) == 0x65) return <i32>Sampling.Deny;
  return -1;
}

/** `b3` single header. */
export function parseB3Single(ptr: usize, len: u32, ctx: TraceContext): bool {
  if (len == 1) {
    const s = samplingOf(ptr, 1);
    if (s < 0) return false;
    ctx.sampling = <Sampling>s;
    return true;
  }
  let dash: u32 = 0;
  while (dash < len && load<u8>(ptr + dash) != 0x2d) dash++;
  if (dash >= len || !parseTraceId(ptr, dash, ctx)) return false;
  const spanStart = dash + 1;
  if (len < spanStart + 16) return false;
  const span = parseSpanId(ptr + spanStart, 16);
  if (span == 0) return false;
  let sampling = Sampling.Defer;
  const rest = spanStart + 16;
  if (rest < len) {
    if (load<u8>(ptr + rest) != 0x2d || rest + 2 > len) return false;
    const s = samplingOf(ptr + rest + 1, 1);
    if (s < 0) return false;
    sampling = <Sampling>s;
    // An optional parent id may follow; Meltemi's span's parent is the span id, so it is not read.
    if (rest + 2 < len && (load<u8>(ptr + rest + 2) != 0x2d || len != rest + 19)) return false;
  }
  ctx.spanId = span;
  ctx.sampling = sampling;
  ctx.hasIds = true;
  return true;
}

/** B3 multi: trace and span id values (both required), the sampled and flags values (0 length: absent). */
export function parseB3Multi(
  tPtr: usize, tLen: u32, sPtr: usize, sLen: u32, sampledPtr: usize, sampledLen: u32, flagsPtr: usize, flagsLen: u32, ctx: TraceContext,
): bool {
  let sampling = Sampling.Defer;
  if (sampledLen > 0) {
    const s = samplingOf(sampledPtr, sampledLen);
    if (s >= 0) sampling = <Sampling>s;
  }
  if (flagsLen == 1 && load<u8>(flagsPtr) == 0x31) sampling = Sampling.Accept; // debug implies sampled
  if (tLen == 0 && sLen == 0) {
    // Only a sampling decision (B3 allows it).
    if (sampledLen == 0 && flagsLen == 0) return false;
    ctx.sampling = sampling;
    return true;
  }
  if (!parseTraceId(tPtr, tLen, ctx)) return false;
  const span = parseSpanId(sPtr, sLen);
  if (span == 0) return false;
  ctx.spanId = span;
  ctx.sampling = sampling;
  ctx.hasIds = true;
  return true;
}
