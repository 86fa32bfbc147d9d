// Metric names with labels. A Wasm module cannot give Envoy labels; Envoy extracts them from the name
// with the bootstrap's stats_tags rules. Meltemi writes Istio's form, every `<tag>=.=<value>;.;` BEFORE
// the metric name (`reporter=.=destination;.;rpc_method=.=echo;.;meltemi_requests_total`), so that the
// name left after extraction is exactly `meltemi_requests_total`. The rules (one regex per tag below)
// come from controller/translate/envoy/stats_tags.ts, which must list every tag used here
// (test/host/telemetry.test.ts checks it).
export const TAG_REPORTER = "reporter";
export const TAG_PROTOCOL = "request_protocol";
export const TAG_SERVICE = "rpc_service";
export const TAG_METHOD = "rpc_method";
export const TAG_STATUS = "rpc_status";
export const TAG_REASON = "reason";

/** Appends `<tag>=.=<value>;.;` to a name under construction (values must already be safe: label_value.ts). */
export function tag(prefix: string, name: string, value: string): string {
  return prefix + name + "=.=" + value + ";.;";
}
