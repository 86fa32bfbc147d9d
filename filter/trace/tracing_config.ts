// The `tracing` section of the filter configuration (filter-config.schema.json), parsed.
export enum TraceFormat { Zipkin, Otlp }

/** Where each format's collector takes spans by default. */
export const ZIPKIN_PATH = "/api/v2/spans";
export const OTLP_PATH = "/v1/traces";

export class TracingConfig {
  /** zipkin: Zipkin v2 JSON (zipkin.ts); otlp: OTLP/HTTP JSON (otlp.ts). */
  format: TraceFormat = TraceFormat.Zipkin;
  /** Share of requests without a caller's decision that start or continue a sampled trace, per million. */
  samplingPerMillion: u32 = 10_000; // 1%, Istio's default randomSamplingPercentage
  /** The Envoy cluster of the collector (proxy_http_call's upstream). */
  collectorCluster: string = "";
  /** :authority of the export request; default: the cluster name. */
  collectorAuthority: string = "";
  collectorPath: string = ZIPKIN_PATH;
  /** localEndpoint.serviceName of the spans; default: the configuration's name, else "meltemi". */
  serviceName: string = "";
  /** Spans a VM keeps for export; a span past this is dropped and counted. */
  maxBufferedSpans: i32 = 1024;
  /** Spans per export request. */
  maxSpansPerBatch: i32 = 256;
  /** How often a VM exports (at most; the root's tick drives it, once a second when idle). */
  flushIntervalMs: u32 = 1000;
  /** The export request's timeout; a VM has at most one export in flight. */
  timeoutMs: u32 = 5000;
}
