// Reads the caller's trace context from a request's metadata and writes the context Meltemi forwards
// upstream (trace_context.ts has the formats). One pass over the metadata entries per request, with
// length checks first; nothing is allocated unless the request is traced.
import { Mutation } from "../codec/codec";
import { Metadata } from "../codec/metadata";
import {
  FORMAT_B3_MULTI, FORMAT_B3_SINGLE, FORMAT_W3C, Sampling, TraceContext, hex, parseB3Multi, parseB3Single, parseTraceparent, traceIdHex, traceparentValue,
} from "./trace_context";

// Lowercase keys; compared without regard to case.
const TRACEPARENT = String.UTF8.encode("traceparent");
const B3 = String.UTF8.encode("b3");
const B3_TRACE_ID = String.UTF8.encode("x-b3-traceid");
const B3_SPAN_ID = String.UTF8.encode("x-b3-spanid");
const B3_PARENT_SPAN_ID = String.UTF8.encode("x-b3-parentspanid");
const B3_SAMPLED = String.UTF8.encode("x-b3-sampled");
const B3_FLAGS = String.UTF8.encode("x-b3-flags");

function equalsIgnoreCase(ptr: usize, len: u32, lower: ArrayBuffer): bool {
  if (len != <u32>lower.byteLength) return false;
  const l = changetype<usize>(lower);
  for (let i: u32 = 0; i < len; i++) {
    let c = load<u8>(ptr + i);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c != load<u8>(l + i)) return false;
  }
  return true;
}

/** What a request carried: its context, the formats present, and where their keys are in the metadata. */
export class Incoming {
  ctx: TraceContext = new TraceContext();
  formats: u8 = 0;
  /** Metadata entry indexes (-1: absent), valid while the request's metadata is. */
  traceparent: i32 = -1;
  b3: i32 = -1;
  traceId: i32 = -1;
  spanId: i32 = -1;
  parentSpanId: i32 = -1;
  sampled: i32 = -1;
  flags: i32 = -1;

  reset(): void {
    this.ctx.reset();
    this.formats = 0;
    this.traceparent = this.b3 = this.traceId = this.spanId = this.parentSpanId = this.sampled = this.flags = -1;
  }

  /** Whether a context was found (with ids, or a sampling decision only). */
  get found(): bool { return this.formats != 0; }
}

function valueLen(md: Metadata, i: i32): u32 { return i >= 0 ? md.valueLenAt(i) : 0; }
function valuePtr(md: Metadata, i: i32): usize { return i >= 0 ? md.valuePtrAt(i) : 0; }

/**
 * Finds the trace context of a request. Precedence when several formats are present: traceparent, b3,
 * B3 multi (a format whose value does not parse is skipped, but still rewritten on the way up so that
 * the upstream never sees a stale parent).
 */
export function extract(md: Metadata, out: Incoming): void {
  out.reset();
  // Walks every entry: the frame's undecoded part first (connection.ts refuses the frame if it fails).
  md.complete();
  for (let i = 0; i < md.count; i++) {
    const len = md.keyLenAt(i);
    if (len != 2 && len != 10 && len != 11 && len != 12 && len != 17) continue;
    const p = md.keyPtrAt(i);
    if (len == 2) { if (equalsIgnoreCase(p, len, B3)) out.b3 = i; }
    else if (len == 11) {
      if (equalsIgnoreCase(p, len, TRACEPARENT)) out.traceparent = i;
      else if (equalsIgnoreCase(p, len, B3_SPAN_ID)) out.spanId = i;
    } else if (len == 12) {
      if (equalsIgnoreCase(p, len, B3_TRACE_ID)) out.traceId = i;
      else if (equalsIgnoreCase(p, len, B3_SAMPLED)) out.sampled = i;
    } else if (len == 17) { if (equalsIgnoreCase(p, len, B3_PARENT_SPAN_ID)) out.parentSpanId = i; }
    else if (equalsIgnoreCase(p, len, B3_FLAGS)) out.flags = i;
  }
  const ctx = out.ctx;
  let done = false;
  if (out.traceparent >= 0) {
    out.formats |= FORMAT_W3C;
    done = parseTraceparent(md.valuePtrAt(out.traceparent), md.valueLenAt(out.traceparent), ctx);
    if (!done) ctx.reset();
  }
  if (out.b3 >= 0) {
    out.formats |= FORMAT_B3_SINGLE;
    if (!done) {
      done = parseB3Single(md.valuePtrAt(out.b3), md.valueLenAt(out.b3), ctx);
      if (!done) ctx.reset();
    }
  }
  if (out.traceId >= 0 || out.spanId >= 0 || out.sampled >= 0 || out.flags >= 0) {
    out.formats |= FORMAT_B3_MULTI;
    if (!done) {
      done = parseB3Multi(
        valuePtr(md, out.traceId), valueLen(md, out.traceId), valuePtr(md, out.spanId), valueLen(md, out.spanId),
        valuePtr(md, out.sampled), valueLen(md, out.sampled), valuePtr(md, out.flags), valueLen(md, out.flags), ctx,
      );
      if (!done) ctx.reset();
    }
  }
  // Present but unreadable everywhere: treated as no context (a new trace replaces it).
  if (!done) out.formats = 0;
}

/** The key as the caller wrote it, or `fallback` when the request did not have it. */
function keyOr(md: Metadata, i: i32, fallback: string): string {
  return i >= 0 ? md.keyString(i) : fallback;
}

/**
 * Writes the forwarded context into `out`: trace `traceHi:traceLo`, span `spanId` (Meltemi's span, the
 * upstream's parent), sampled. In the formats the caller used (each key as it wrote it), or W3C
 * `traceparent` for a trace Meltemi starts. `tracestate` is forwarded as it came (no key is written).
 */
export function inject(md: Metadata, inc: Incoming, traceHi: u64, traceLo: u64, spanId: u64, out: Mutation): void {
  const formats = inc.found ? inc.formats : FORMAT_W3C;
  const parent = inc.ctx.hasIds ? inc.ctx.spanId : 0;
  const span = hex(spanId, 16);
  if ((formats & FORMAT_W3C) != 0) {
    out.set(keyOr(md, inc.traceparent, "traceparent"), traceparentValue(traceHi, traceLo, spanId));
  }
  const shortId = inc.ctx.hasIds && inc.ctx.shortTraceId;
  if ((formats & FORMAT_B3_SINGLE) != 0) {
    let v = traceIdHex(traceHi, traceLo, shortId) + "-" + span + "-1";
    if (parent != 0) v += "-" + hex(parent, 16);
    out.set(keyOr(md, inc.b3, "b3"), v);
  }
  if ((formats & FORMAT_B3_MULTI) != 0) {
    // New keys follow the case of a key the caller sent (Brave writes X-B3-TraceId; lowercased carriers x-b3-traceid).
    const anyKey = inc.traceId >= 0 ? inc.traceId : inc.spanId >= 0 ? inc.spanId : inc.sampled >= 0 ? inc.sampled : inc.flags;
    const lower = anyKey >= 0 && load<u8>(md.keyPtrAt(anyKey)) == 0x78; // 'x'
    out.set(keyOr(md, inc.traceId, lower ? "x-b3-traceid" : "X-B3-TraceId"), traceIdHex(traceHi, traceLo, shortId));
    out.set(keyOr(md, inc.spanId, lower ? "x-b3-spanid" : "X-B3-SpanId"), span);
    if (parent != 0) out.set(keyOr(md, inc.parentSpanId, lower ? "x-b3-parentspanid" : "X-B3-ParentSpanId"), hex(parent, 16));
    out.set(keyOr(md, inc.sampled, lower ? "x-b3-sampled" : "X-B3-Sampled"), "1");
  }
}

/** Whether the caller's decision (or its absence) lets Meltemi sample: Accept yes, Deny no, Defer: draw. */
export function callerSampling(inc: Incoming): Sampling {
  return inc.found ? inc.ctx.sampling : Sampling.Defer;
}
