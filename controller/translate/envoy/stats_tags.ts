// The Envoy tag extraction rules that turn Meltemi's metric names into Prometheus labels.
//
// A Wasm module has no API for labels: Envoy derives them from the metric NAME with the bootstrap's
// `stats_config.stats_tags` (regex tag extractors; envoy `source/common/stats/tag_extractor_impl.cc`:
// the first capture group is cut out of the name, the second is the tag value). Meltemi writes names
// the way Istio's own stats plugin did (istio/proxy `extensions/stats/plugin.h` StatGen::resolve):
//
//   <tag>=.=<value>;.;<tag>=.=<value>;.; ... <metric name>
//
// i.e. every `<tag>=.=<value>;.;` BEFORE the metric name, so that cutting them all out leaves exactly
// the metric name, e.g. `meltemi_requests_total{reporter="destination",rpc_method="echo",...}` in
// /stats/prometheus. (Putting the tags after the name, `meltemi_requests_total;.;tag=.=v;.;`, leaves
// the separator `;.;` in the name, which Prometheus output shows as `meltemi_requests_total___`.)
//
// The regex per tag is Istio's `extraStatTags` form, `(<tag>=\.=(.*?);\.;)`, so Istio generates the
// very same rules from `proxy.istio.io/config: {extraStatTags: [...]}` (docs/filter.md "Metrics").
// The filter writes these tag names in filter/telemetry/tags.ts; test/host/telemetry.test.ts checks
// that every tag the filter writes has a rule here.

/** Tags Meltemi's metric names carry. */
export const METER_TAGS = ["reporter", "request_protocol", "rpc_service", "rpc_method", "rpc_status", "reason"] as const;

/** Tags that Istio's bootstrap already extracts with the same regex (istio/istio envoy_bootstrap.json). */
export const ISTIO_BUILTIN_TAGS: readonly string[] = ["reporter", "request_protocol"];

export interface StatsTag {
  tag_name: string;
  regex: string;
}

/** The extraction rule for one tag, in Istio's form. */
export function statsTagRule(tag: string): StatsTag {
  return { tag_name: tag, regex: `(${tag}=\\.=(.*?);\\.;)` };
}

/** `stats_config` of an Envoy bootstrap that labels Meltemi's metrics (Envoy's default tags kept). */
export function meltemiStatsConfig(): { use_all_default_tags: boolean; stats_tags: StatsTag[] } {
  return { use_all_default_tags: true, stats_tags: METER_TAGS.map(statsTagRule) };
}

/**
 * What an Istio sidecar needs besides its own bootstrap: the tag names to list in
 * `proxy.istio.io/config` `extraStatTags` (or the mesh config's `defaultConfig.extraStatTags`).
 * Istio refuses nothing here, but Envoy rejects a bootstrap that names a tag twice, so the tags
 * Istio already has are left out.
 */
export function istioExtraStatTags(): string[] {
  return METER_TAGS.filter((t) => !ISTIO_BUILTIN_TAGS.includes(t));
}
