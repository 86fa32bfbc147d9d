// The tracing counters (Envoy stats, see telemetry/metrics.ts for naming and tags):
//   meltemi_trace_spans_sampled_total               spans opened at a decision
//   meltemi_trace_spans_reported_total              spans the collector accepted (2xx)
//   meltemi_trace_spans_dropped_total{reason=...}   buffer_full, export_failed, open_full
//   meltemi_trace_exports_failed_total              export calls that failed or were refused
import { MetricType, defineMetric, incrementMetric } from "../abi/host";
import { TAG_REASON, tag } from "../telemetry/tags";

export const TRACE_SPANS_SAMPLED = "meltemi_trace_spans_sampled_total";
export const TRACE_SPANS_REPORTED = "meltemi_trace_spans_reported_total";
export const TRACE_SPANS_DROPPED = "meltemi_trace_spans_dropped_total";
export const TRACE_EXPORTS_FAILED = "meltemi_trace_exports_failed_total";

class TraceMetrics {
  private defined: bool = false;
  private sampledId: u32 = u32.MAX_VALUE;
  private reportedId: u32 = u32.MAX_VALUE;
  private bufferFullId: u32 = u32.MAX_VALUE;
  private exportFailedId: u32 = u32.MAX_VALUE;
  private openFullId: u32 = u32.MAX_VALUE;
  private exportsFailedId: u32 = u32.MAX_VALUE;

  /** Once per VM, when a configuration first turns tracing on (a VM without tracing has none of these stats). */
  define(): void {
    if (this.defined) return;
    this.defined = true;
    this.sampledId = defineMetric(MetricType.Counter, TRACE_SPANS_SAMPLED);
    this.reportedId = defineMetric(MetricType.Counter, TRACE_SPANS_REPORTED);
    this.bufferFullId = defineMetric(MetricType.Counter, tag("", TAG_REASON, "buffer_full") + TRACE_SPANS_DROPPED);
    this.exportFailedId = defineMetric(MetricType.Counter, tag("", TAG_REASON, "export_failed") + TRACE_SPANS_DROPPED);
    this.openFullId = defineMetric(MetricType.Counter, tag("", TAG_REASON, "open_full") + TRACE_SPANS_DROPPED);
    this.exportsFailedId = defineMetric(MetricType.Counter, TRACE_EXPORTS_FAILED);
  }

  sampled(): void { incrementMetric(this.sampledId, 1); }
  reported(n: i32): void { incrementMetric(this.reportedId, n); }
  dropBufferFull(n: i32): void { incrementMetric(this.bufferFullId, n); }
  dropOpenFull(n: i32): void { incrementMetric(this.openFullId, n); }
  exportFailed(n: i32): void {
    incrementMetric(this.exportFailedId, n);
    incrementMetric(this.exportsFailedId, 1);
  }
}

export const traceMetrics = new TraceMetrics();
