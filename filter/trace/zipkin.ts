// Spans as the Zipkin v2 JSON a collector takes on POST /api/v2/spans (zipkin2 API, `ListOfSpans`):
// lowercase hex ids (traceId 16 or 32 digits, id and parentId 16), timestamp and duration in
// microseconds since the epoch, kind CLIENT on an outbound listener and SERVER on an inbound one.
// Tags: rpc.system / rpc.service / rpc.method (OpenTelemetry's RPC names), upstream_cluster (as
// Envoy's own spans), meltemi.route, meltemi.status, meltemi.caller, meltemi.request_id, and `error`
// (what the Zipkin UI marks red) for a status other than ok and oneway.
import { hex, traceIdHex } from "./trace_context";
import { Span } from "./span";

/** A JSON string literal. */
export function jsonString(s: string): string {
  let out = "\"";
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
    out += s.substring(from, i);
    if (c == 0x22) out += "\\\"";
    else if (c == 0x5c) out += "\\\\";
    else if (c == 0x0a) out += "\\n";
    else if (c == 0x0d) out += "\\r";
    else if (c == 0x09) out += "\\t";
    else out += "\\u00" + hex(<u64>c, 2);
    from = i + 1;
  }
  return out + s.substring(from) + "\"";
}

function tag(first: bool, key: string, value: string): string {
  return (first ? "" : ",") + jsonString(key) + ":" + jsonString(value);
}

export class SpanSource {
  /** localEndpoint.serviceName. */
  serviceName: string = "";
  /** CLIENT, SERVER, or "" (no kind). */
  kind: string = "";
  protocol: string = "";
}

export function zipkinSpan(s: Span, src: SpanSource): string {
  let j = "{\"traceId\":\"" + traceIdHex(s.traceHi, s.traceLo, s.shortTraceId) + "\",\"id\":\"" + hex(s.id, 16) + "\"";
  if (s.parentId != 0) j += ",\"parentId\":\"" + hex(s.parentId, 16) + "\"";
  if (src.kind.length > 0) j += ",\"kind\":\"" + src.kind + "\"";
  j += ",\"name\":" + jsonString(s.service.length > 0 ? s.service + "/" + s.method : s.method);
  j += ",\"timestamp\":" + (s.startNs / 1000).toString();
  if (s.durationNs >= 0) {
    const us = s.durationNs / 1000;
    j += ",\"duration\":" + (us > 0 ? us : 1).toString();
  }
  j += ",\"localEndpoint\":{\"serviceName\":" + jsonString(src.serviceName) + "}";
  j += ",\"tags\":{" + tag(true, "rpc.system", src.protocol);
  if (s.service.length > 0) j += tag(false, "rpc.service", s.service);
  if (s.method.length > 0) j += tag(false, "rpc.method", s.method);
  if (s.route.length > 0) j += tag(false, "meltemi.route", s.route);
  if (s.cluster.length > 0) j += tag(false, "upstream_cluster", s.cluster);
  if (s.caller.length > 0) j += tag(false, "meltemi.caller", s.caller);
  j += tag(false, "meltemi.request_id", s.requestId.toString());
  j += tag(false, "meltemi.status", s.status);
  if (s.status != "ok" && s.status != "oneway") j += tag(false, "error", s.status);
  return j + "}}";
}

/** The request body for `spans`: a JSON array (ListOfSpans). */
export function zipkinBody(spans: Array<Span>, src: SpanSource): string {
  let j = "[";
  for (let i = 0; i < spans.length; i++) {
    if (i > 0) j += ",";
    j += zipkinSpan(spans[i], src);
  }
  return j + "]";
}
