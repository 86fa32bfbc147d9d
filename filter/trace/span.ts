// One decided request as a span: the ids that place it in the caller's trace, when it started and how
// long it took, and what Meltemi decided. Made at the decision (open_spans.ts), finished when the
// request ends (answered, rejected, oneway, evicted), then buffered by the root's Tracer until export.
export class Span {
  traceHi: u64 = 0;
  traceLo: u64 = 0;
  /** The trace id came as 16 hex digits (B3): exported the same way, so that the collector joins it to the caller's spans. */
  shortTraceId: bool = false;
  id: u64 = 0;
  /** The caller's span; 0 for a trace Meltemi started. */
  parentId: u64 = 0;
  requestId: i64 = 0;
  /** Wall clock (proxy_get_current_time_nanoseconds) at the decision. */
  startNs: u64 = 0;
  /** -1: ended without an answer (oneway, dropped, evicted). */
  durationNs: i64 = -1;
  service: string = "";
  method: string = "";
  route: string = "";
  cluster: string = "";
  /** The mTLS peer's principal (e.g. cluster.local/ns/web/sa/frontend); "" when unknown. */
  caller: string = "";
  /** The request's status as the metrics name it (ok, error, oneway, unknown, over_limit, ...). */
  status: string = "";
}
