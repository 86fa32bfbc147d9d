// Spans as the Zipkin v2 JSON a collector takes on POST /api/v2/spans (zipkin2 API, `ListOfSpans`):
// lowercase hex ids (traceId 16 or 32 digits, id and parentId 16), timestamp and duration in
// microseconds since the epoch, kind CLIENT on an outbound listener and SERVER on an inbound one.
// Tags: rpc.system / rpc.service / rpc.method (OpenTelemetry's RPC names), upstream_cluster (as
// Envoy's own spans), meltemi.route, meltemi.status, meltemi.caller, meltemi.request_id, and `error`
// (what the Zipkin UI marks red) for a status other than ok and oneway.
import { JsonOut } from "./json_out";
import { Span } from "./span";

export class SpanSource {
  /** localEndpoint.serviceName. */
  serviceName: string = "";
  /** CLIENT, SERVER, or "" (no kind). */
  kind: string = "";
  protocol: string = "";
}

/** Whether the status marks the span as failed (Zipkin's error tag, OTLP's status code 2). */
export function isError(status: string): bool {
  return status != "ok" && status != "oneway";
}

/** `<service>/<method>`, or the method alone when the protocol names no service. */
export function spanName(out: JsonOut, s: Span): void {
  out.raw("\"");
  if (s.service.length > 0) out.escaped(s.service).raw("/");
  out.escaped(s.method).raw("\"");
}

function tag(out: JsonOut, key: string, value: string): void {
  out.raw(",").str(key).raw(":").str(value);
}

export function zipkinSpan(out: JsonOut, s: Span, src: SpanSource): void {
  out.raw("{\"traceId\":\"");
  if (s.shortTraceId && s.traceHi == 0) out.hex(s.traceLo, 16);
  else out.hex(s.traceHi, 16).hex(s.traceLo, 16);
  out.raw("\",\"id\":\"").hex(s.id, 16).raw("\"");
  if (s.parentId != 0) out.raw(",\"parentId\":\"").hex(s.parentId, 16).raw("\"");
  if (src.kind.length > 0) out.raw(",\"kind\":\"").raw(src.kind).raw("\"");
  out.raw(",\"name\":");
  spanName(out, s);
  out.raw(",\"timestamp\":").uint(s.startNs / 1000);
  if (s.durationNs >= 0) {
    const us = <u64>s.durationNs / 1000;
    out.raw(",\"duration\":").uint(us > 0 ? us : 1);
  }
  out.raw(",\"localEndpoint\":{\"serviceName\":").str(src.serviceName).raw("}");
  out.raw(",\"tags\":{\"rpc.system\":").str(src.protocol);
  if (s.service.length > 0) tag(out, "rpc.service", s.service);
  if (s.method.length > 0) tag(out, "rpc.method", s.method);
  if (s.route.length > 0) tag(out, "meltemi.route", s.route);
  if (s.cluster.length > 0) tag(out, "upstream_cluster", s.cluster);
  if (s.caller.length > 0) tag(out, "meltemi.caller", s.caller);
  out.raw(",\"meltemi.request_id\":\"").int(s.requestId).raw("\"");
  tag(out, "meltemi.status", s.status);
  if (isError(s.status)) tag(out, "error", s.status);
  out.raw("}}");
}

/** The request body for `spans`: a JSON array (ListOfSpans). */
export function zipkinBody(out: JsonOut, spans: StaticArray<Span>, src: SpanSource): void {
  out.raw("[");
  for (let i = 0; i < spans.length; i++) {
    if (i > 0) out.raw(",");
    zipkinSpan(out, spans[i], src);
  }
  out.raw("]");
}

/** A JSON string literal (for tests and logs). */
export function jsonString(s: string): string {
  const out = new JsonOut();
  out.str(s);
  const r = out.toString();
  out.w.free();
  return r;
}
