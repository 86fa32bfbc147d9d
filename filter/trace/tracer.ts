// Tracing for one root context (one plugin configuration on one worker VM): decides which requests
// become spans, hands the connection the keys to forward, buffers finished spans and exports them in
// batches to the collector with proxy_http_call from the root's tick (and, while full batches wait,
// from the answer to the previous export).
//
// Bounded whatever the collector does: at most maxBufferedSpans finished spans wait (a span past that
// is dropped and counted, reason buffer_full), at most one export is in flight (a slow collector only
// makes the buffer fill), and a failed export drops its batch (counted, reason export_failed). Nothing
// on the request path waits for the collector.
import { owe } from "../abi/gc";
import { LogLevel, WasmResult, log, nowNanos } from "../abi/host";
import { httpCall, httpCallResponseHeader } from "../abi/http_call";
import { Codec, Mutation } from "../codec/codec";
import { KEY_METHOD, Metadata } from "../codec/metadata";
import { Decision, Verdict } from "../network/decision";
import { Random } from "../route/random";
import { statusName } from "../telemetry/request_metrics";
import { OpenSpans } from "./open_spans";
import { Incoming, extract, inject } from "./propagation";
import { Span } from "./span";
import { Sampling } from "./trace_context";
import { TraceFormat, TracingConfig } from "./tracing_config";
import { traceMetrics } from "./trace_metrics";
import { JsonOut } from "./json_out";
import { otlpBody } from "./otlp";
import { SpanSource, zipkinBody } from "./zipkin";

const incoming = new Incoming();
/** The trace keys of the request being decided (one callback at a time per VM). */
const traceKeys = new Mutation();
/** The route's mutation plus the trace keys (withTrace). */
const merged = new Mutation();

const MILLION: u32 = 1_000_000;
/** The export body, written in place (json_out.ts); one per VM: a callback at a time. */
const body = new JsonOut();
const KEEP_BODY_BYTES: u32 = 256 << 10;
/** An export the host never answered (it should, by its timeout) is given up this long after its timeout. */
const LOST_AFTER_TIMEOUT_NS: u64 = 5_000_000_000;

function nonZero(random: Random): u64 {
  let v = random.next();
  while (v == 0) v = random.next();
  return v;
}

function valueOf(md: Metadata, i: i32): string {
  return i >= 0 ? md.valueString(i) : "";
}

/** `base` (a route's request mutation, or null) with the trace keys added; a VM-wide scratch, valid in this callback. */
export function withTrace(base: Mutation | null, keys: Mutation): Mutation {
  merged.keys.length = 0;
  merged.values.length = 0;
  if (base !== null) {
    for (let i = 0; i < base.keys.length; i++) merged.set(base.keys[i], base.values[i]);
  }
  for (let i = 0; i < keys.keys.length; i++) merged.set(keys.keys[i], keys.values[i]);
  return merged;
}

/** What a sampled span leaves for the collector, at most (abi/gc.ts). */
const SPAN_GARBAGE_BYTES: u64 = 1 << 10;

export class Tracer {
  config: TracingConfig | null = null;
  readonly source: SpanSource = new SpanSource();
  private ring: StaticArray<Span | null> = new StaticArray<Span | null>(0);
  private head: i32 = 0;
  private count: i32 = 0;
  private exporting: bool = false;
  private exportToken: u32 = 0;
  private exportSpans: i32 = 0;
  private exportSinceNs: u64 = 0;
  private lastExportNs: u64 = 0;
  private lastFailure: string = "";

  get enabled(): bool { return this.config !== null; }
  get buffered(): i32 { return this.count; }

  configure(config: TracingConfig | null, name: string, protocol: string, reporter: string): void {
    this.config = config;
    if (config === null) {
      // Tracing turned off: what waits for export has nowhere to go.
      this.ring = new StaticArray<Span | null>(0);
      this.head = 0;
      this.count = 0;
      return;
    }
    traceMetrics.define();
    const c = config as TracingConfig;
    this.source.serviceName = c.serviceName.length > 0 ? c.serviceName : name.length > 0 ? name : "meltemi";
    this.source.protocol = protocol;
    this.source.kind = reporter == "source" ? "CLIENT" : reporter == "destination" ? "SERVER" : "";
    if (this.ring.length != c.maxBufferedSpans) {
      // Keeps the newest spans that fit.
      const next = new StaticArray<Span | null>(c.maxBufferedSpans);
      const keep = this.count < next.length ? this.count : next.length;
      for (let i = 0; i < keep; i++) next[i] = this.ring[(this.head + this.count - keep + i) % this.ring.length];
      if (this.count > keep) traceMetrics.dropBufferFull(this.count - keep);
      this.ring = next;
      this.head = 0;
      this.count = keep;
    }
  }

  /**
   * At the decision of a request: opens its span when the trace is sampled (the caller's decision, or
   * a draw at the configured rate when the caller left it open or sent no context). Returns the keys
   * to forward (a forwarded, sampled request whose codec can carry them), else null: then no byte of
   * the request changes for tracing.
   */
  begin(
    codec: Codec, md: Metadata, d: Decision, random: Random, nowNs: u64, caller: ArrayBuffer, open: OpenSpans,
  ): Mutation | null {
    const c = this.config as TracingConfig;
    extract(md, incoming);
    const sampling = incoming.found ? incoming.ctx.sampling : Sampling.Defer;
    if (sampling == Sampling.Deny) return null;
    if (sampling == Sampling.Defer) {
      if (c.samplingPerMillion == 0) return null;
      if (c.samplingPerMillion < MILLION && random.below(MILLION) >= c.samplingPerMillion) return null;
    }
    // The span, its strings, its injected mutation and its share of the export's output are garbage
    // once exported: measured up to ~800 bytes per span for Dubbo (abi/gc.ts).
    owe(SPAN_GARBAGE_BYTES);
    const span = new Span();
    const ctx = incoming.ctx;
    if (ctx.hasIds) {
      span.traceHi = ctx.traceHi;
      span.traceLo = ctx.traceLo;
      span.shortTraceId = ctx.shortTraceId;
      span.parentId = ctx.spanId;
    } else {
      span.traceHi = nonZero(random);
      span.traceLo = nonZero(random);
    }
    span.id = nonZero(random);
    span.requestId = md.requestId;
    span.startNs = nowNs;
    span.service = valueOf(md, md.indexOf(codec.serviceKey));
    span.method = valueOf(md, md.indexOf(KEY_METHOD));
    if (d.route !== null) span.route = d.route!.name;
    if (d.destination !== null) span.cluster = d.destination!.cluster;
    if (caller.byteLength > 0) span.caller = String.UTF8.decode(caller);
    traceMetrics.sampled();
    if (open.add(span) !== null) traceMetrics.dropOpenFull(1);
    if (d.verdict != Verdict.Forward || !codec.addsKeysInPlace(md)) return null;
    traceKeys.keys.length = 0;
    traceKeys.values.length = 0;
    inject(md, incoming, span.traceHi, span.traceLo, span.id, traceKeys);
    return traceKeys;
  }

  /** A request ended (connection.ts end()): its span, if it has one, is finished and buffered. */
  end(open: OpenSpans, requestId: i64, status: u8, durationNs: i64, cluster: string): void {
    const span = open.take(requestId);
    if (span === null || this.config === null) return;
    span.status = statusName(status);
    span.durationNs = durationNs;
    if (cluster.length > 0) span.cluster = cluster;
    this.record(span);
  }

  record(span: Span): void {
    if (this.count >= this.ring.length) { traceMetrics.dropBufferFull(1); return; }
    this.ring[(this.head + this.count) % this.ring.length] = span;
    this.count++;
  }

  /** From the root's tick: exports a batch when the interval is up and no export is in flight. */
  onTick(nowNs: u64): void {
    if (this.config === null) return;
    const c = this.config as TracingConfig;
    if (this.exporting) {
      if (nowNs - this.exportSinceNs < <u64>c.timeoutMs * 1_000_000 + LOST_AFTER_TIMEOUT_NS) return;
      this.exportFailed("no answer from the host");
    }
    if (this.count == 0 || nowNs - this.lastExportNs < <u64>c.flushIntervalMs * 1_000_000) return;
    this.exportBatch(nowNs);
  }

  /** Sends the oldest spans, up to a batch, with one proxy_http_call (from the root context). */
  private exportBatch(nowNs: u64): void {
    const c = this.config as TracingConfig;
    this.lastExportNs = nowNs;
    const n = this.count < c.maxSpansPerBatch ? this.count : c.maxSpansPerBatch;
    const batch = new StaticArray<Span>(n);
    for (let i = 0; i < n; i++) {
      const at = (this.head + i) % this.ring.length;
      batch[i] = this.ring[at] as Span;
      this.ring[at] = null;
    }
    body.clear();
    if (c.format == TraceFormat.Otlp) otlpBody(body, batch, this.source);
    else zipkinBody(body, batch, this.source);
    this.head = (this.head + n) % this.ring.length;
    this.count -= n;
    const authority = c.collectorAuthority.length > 0 ? c.collectorAuthority : c.collectorCluster;
    const r = httpCall(c.collectorCluster, [
      ":method", "POST", ":path", c.collectorPath, ":authority", authority, "content-type", "application/json",
    ], body.w.ptr, body.w.length, c.timeoutMs);
    // Envoy copied the body; a large batch does not keep its size in the VM.
    body.w.shrink(KEEP_BODY_BYTES);
    this.exportSpans = n;
    if (r.result != WasmResult.Ok) {
      this.exportFailed("proxy_http_call to cluster " + c.collectorCluster + " refused (" + r.result.toString() + ")");
      return;
    }
    this.exporting = true;
    this.exportToken = r.token;
    this.exportSinceNs = nowNs;
  }

  onHttpCallResponse(token: u32, numHeaders: u32): bool {
    if (!this.exporting || token != this.exportToken) return false;
    this.exporting = false;
    const status = numHeaders > 0 ? httpCallResponseHeader(":status") : null;
    if (status !== null && status.length == 3 && status.charCodeAt(0) == 0x32) {
      traceMetrics.reported(this.exportSpans);
      this.lastFailure = "";
      // A full batch waits: it goes now, so that export keeps pace with the collector, not with the tick.
      const c = this.config;
      if (c !== null && this.count >= (c as TracingConfig).maxSpansPerBatch) this.exportBatch(nowNanos());
      return true;
    }
    this.exportFailed(status === null ? "the call failed (no response: connection, timeout)" : "the collector answered " + status);
    return true;
  }

  private exportFailed(why: string): void {
    this.exporting = false;
    traceMetrics.exportFailed(this.exportSpans);
    // Logged when the reason changes, not for every batch of a collector that stays down.
    if (why != this.lastFailure) {
      this.lastFailure = why;
      log(LogLevel.Warn, "meltemi: span export failed: " + why + "; " + this.exportSpans.toString() +
        " span(s) dropped (meltemi_trace_spans_dropped_total{reason=\"export_failed\"})");
    }
  }
}
