// Spans as OTLP/HTTP JSON (opentelemetry-proto ExportTraceServiceRequest, JSON encoding, POST
// /v1/traces): ids as hex strings (the OTLP JSON mapping's exception to base64), trace id always 32
// digits, times as decimal strings of nanoseconds since the epoch, kind as the enum's number
// (SPAN_KIND_SERVER 2, SPAN_KIND_CLIENT 3, SPAN_KIND_INTERNAL 1), status code 2 (ERROR) for a status
// other than ok and oneway. The same attributes as the Zipkin tags (zipkin.ts), service.name on the resource.
import { hex } from "./trace_context";
import { Span } from "./span";
import { SpanSource, jsonString } from "./zipkin";

function attr(first: bool, key: string, value: string): string {
  return (first ? "" : ",") + "{\"key\":" + jsonString(key) + ",\"value\":{\"stringValue\":" + jsonString(value) + "}}";
}

function otlpKind(kind: string): i32 {
  return kind == "SERVER" ? 2 : kind == "CLIENT" ? 3 : 1;
}

export function otlpSpan(s: Span, src: SpanSource): string {
  let j = "{\"traceId\":\"" + hex(s.traceHi, 16) + hex(s.traceLo, 16) + "\",\"spanId\":\"" + hex(s.id, 16) + "\"";
  if (s.parentId != 0) j += ",\"parentSpanId\":\"" + hex(s.parentId, 16) + "\"";
  j += ",\"name\":" + jsonString(s.service.length > 0 ? s.service + "/" + s.method : s.method);
  j += ",\"kind\":" + otlpKind(src.kind).toString();
  const end = s.durationNs >= 0 ? s.startNs + <u64>s.durationNs : s.startNs;
  j += ",\"startTimeUnixNano\":\"" + s.startNs.toString() + "\",\"endTimeUnixNano\":\"" + end.toString() + "\"";
  j += ",\"attributes\":[" + attr(true, "rpc.system", src.protocol);
  if (s.service.length > 0) j += attr(false, "rpc.service", s.service);
  if (s.method.length > 0) j += attr(false, "rpc.method", s.method);
  if (s.route.length > 0) j += attr(false, "meltemi.route", s.route);
  if (s.cluster.length > 0) j += attr(false, "upstream_cluster", s.cluster);
  if (s.caller.length > 0) j += attr(false, "meltemi.caller", s.caller);
  j += attr(false, "meltemi.request_id", s.requestId.toString());
  j += attr(false, "meltemi.status", s.status) + "]";
  if (s.status != "ok" && s.status != "oneway") j += ",\"status\":{\"code\":2,\"message\":" + jsonString(s.status) + "}";
  return j + "}";
}

/** The request body for `spans`: one resource (the service), one scope (meltemi). */
export function otlpBody(spans: Array<Span>, src: SpanSource): string {
  let j = "{\"resourceSpans\":[{\"resource\":{\"attributes\":[" + attr(true, "service.name", src.serviceName) +
    "]},\"scopeSpans\":[{\"scope\":{\"name\":\"meltemi\"},\"spans\":[";
  for (let i = 0; i < spans.length; i++) {
    if (i > 0) j += ",";
    j += otlpSpan(spans[i], src);
  }
  return j + "]}]}]}";
}
