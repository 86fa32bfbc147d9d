// The access log: one line per request, written through proxy_log at info level (Envoy's `wasm` log
// component), when the configuration enables it. The format is parsed once per configuration into
// literal text and placeholders; a line is built only when enabled (it allocates: that is its cost).
// Placeholders: %PROTOCOL% %SERVICE% %METHOD% %REQUEST_ID% %STATUS% %DURATION_MS% %CLUSTER% %REASON%.
// Unknown %WORDS% stay as they are.
export const DEFAULT_ACCESS_LOG_FORMAT =
  "%PROTOCOL% %SERVICE%/%METHOD% id=%REQUEST_ID% status=%STATUS% duration_ms=%DURATION_MS% cluster=%CLUSTER% reason=%REASON%";

export enum Field { Literal, Protocol, Service, Method, RequestId, Status, DurationMs, Cluster, Reason }

const NAMES = ["PROTOCOL", "SERVICE", "METHOD", "REQUEST_ID", "STATUS", "DURATION_MS", "CLUSTER", "REASON"];

export class AccessLogFormat {
  fields: Array<Field> = [];
  literals: Array<string> = [];

  static parse(format: string): AccessLogFormat {
    const f = new AccessLogFormat();
    let text = "";
    let i = 0;
    while (i < format.length) {
      const c = format.charCodeAt(i);
      if (c == 0x25 /* % */) {
        const end = format.indexOf("%", i + 1);
        if (end > i) {
          const k = NAMES.indexOf(format.substring(i + 1, end));
          if (k >= 0) {
            if (text.length > 0) { f.fields.push(Field.Literal); f.literals.push(text); text = ""; }
            f.fields.push(<Field>(k + 1));
            f.literals.push("");
            i = end + 1;
            continue;
          }
        }
      }
      text += String.fromCharCode(c);
      i++;
    }
    if (text.length > 0) { f.fields.push(Field.Literal); f.literals.push(text); }
    return f;
  }
}

/** One request's values, filled by the connection when the request ends. */
export class AccessLogEntry {
  protocol: string = "";
  service: string = "";
  method: string = "";
  requestId: i64 = 0;
  status: string = "";
  /** < 0: not timed. */
  durationNs: i64 = -1;
  cluster: string = "";
  reason: string = "";
}

/** Nanoseconds as milliseconds with three decimals ("12.345"). */
function millis(ns: i64): string {
  const us = ns / 1000;
  const frac = (us % 1000).toString();
  return (us / 1000).toString() + "." + (frac.length == 1 ? "00" : frac.length == 2 ? "0" : "") + frac;
}

export function formatEntry(format: AccessLogFormat, e: AccessLogEntry): string {
  let out = "";
  for (let i = 0; i < format.fields.length; i++) {
    switch (format.fields[i]) {
      case Field.Literal: out += format.literals[i]; break;
      case Field.Protocol: out += e.protocol; break;
      case Field.Service: out += e.service; break;
      case Field.Method: out += e.method; break;
      case Field.RequestId: out += e.requestId.toString(); break;
      case Field.Status: out += e.status; break;
      case Field.DurationMs: out += e.durationNs < 0 ? "-" : millis(e.durationNs); break;
      case Field.Cluster: out += e.cluster.length > 0 ? e.cluster : "-"; break;
      case Field.Reason: out += e.reason.length > 0 ? e.reason : "-"; break;
    }
  }
  return out;
}
