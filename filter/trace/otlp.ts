// Spans as OTLP/HTTP JSON (opentelemetry-proto ExportTraceServiceRequest, JSON encoding, POST
// /v1/traces): ids as hex strings (the OTLP JSON mapping's exception to base64), trace id always 32
// digits, times as decimal strings of nanoseconds since the epoch, kind as the enum's number
// (SPAN_KIND_SERVER 2, SPAN_KIND_CLIENT 3, SPAN_KIND_INTERNAL 1), status code 2 (ERROR) for a status
// other than ok and oneway. The same attributes as the Zipkin tags (zipkin.ts), service.name on the resource.
import { JsonOut } from "./json_out";
import { Span } from "./span";
import { SpanSource, isError, spanName } from "./zipkin";

function attr(out: JsonOut, first: bool, key: string, value: string): void {
  out.raw(first ? "{\"key\":" : ",{\"key\":").str(key).raw(",\"value\":{\"stringValue\":").str(value).raw("}}");
}

function otlpKind(kind: string): u64 {
  return kind == "SERVER" ? 2 : kind == "CLIENT" ? 3 : 1;
}

export function otlpSpan(out: JsonOut, s: Span, src: SpanSource): void {
  out.raw("{\"traceId\":\"").hex(s.traceHi, 16).hex(s.traceLo, 16).raw("\",\"spanId\":\"").hex(s.id, 16).raw("\"");
  if (s.parentId != 0) out.raw(",\"parentSpanId\":\"").hex(s.parentId, 16).raw("\"");
  out.raw(",\"name\":");
  spanName(out, s);
  out.raw(",\"kind\":").uint(otlpKind(src.kind));
  const end = s.durationNs >= 0 ? s.startNs + <u64>s.durationNs : s.startNs;
  out.raw(",\"startTimeUnixNano\":\"").uint(s.startNs).raw("\",\"endTimeUnixNano\":\"").uint(end).raw("\"");
  out.raw(",\"attributes\":[");
  attr(out, true, "rpc.system", src.protocol);
  if (s.service.length > 0) attr(out, false, "rpc.service", s.service);
  if (s.method.length > 0) attr(out, false, "rpc.method", s.method);
  if (s.route.length > 0) attr(out, false, "meltemi.route", s.route);
  if (s.cluster.length > 0) attr(out, false, "upstream_cluster", s.cluster);
  if (s.caller.length > 0) attr(out, false, "meltemi.caller", s.caller);
  out.raw(",{\"key\":\"meltemi.request_id\",\"value\":{\"stringValue\":\"").int(s.requestId).raw("\"}}");
  attr(out, false, "meltemi.status", s.status);
  out.raw("]");
  if (isError(s.status)) out.raw(",\"status\":{\"code\":2,\"message\":").str(s.status).raw("}");
  out.raw("}");
}

/** The request body for `spans`: one resource (the service), one scope (meltemi). */
export function otlpBody(out: JsonOut, spans: StaticArray<Span>, src: SpanSource): void {
  out.raw("{\"resourceSpans\":[{\"resource\":{\"attributes\":[");
  attr(out, true, "service.name", src.serviceName);
  out.raw("]},\"scopeSpans\":[{\"scope\":{\"name\":\"meltemi\"},\"spans\":[");
  for (let i = 0; i < spans.length; i++) {
    if (i > 0) out.raw(",");
    otlpSpan(out, spans[i], src);
  }
  out.raw("]}]}]}");
}
