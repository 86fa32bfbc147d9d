// HTTP/2 on an upstream cluster, as the value of an EnvoyFilter CLUSTER MERGE: what Envoy's gRPC async
// client needs to reach the rate limit service through an Istio outbound cluster that Istio built for
// plain TCP (a Service port named tcp-*, as in Aeraki's demo). Without it the client gets no answer
// (test/ratelimit/envoy-rls.test.ts).
//
// Harmless for the cluster's TCP users: tcp_proxy opens a plain TCP connection pool and reads the
// cluster's HTTP features only when it tunnels (tunneling_config set; envoyproxy/envoy
// source/extensions/upstreams/tcp/generic/config.cc GenericConnPoolFactory::createGenericConnPool).
// Istio merges a map entry by replacing it (istio/istio pkg/proto/merge/merge.go mergeMap): this value
// is the whole HttpProtocolOptions of the cluster afterwards (Istio writes none for a TCP cluster).
export const HTTP_PROTOCOL_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
export const TYPE_HTTP_PROTOCOL_OPTIONS = `type.googleapis.com/${HTTP_PROTOCOL_OPTIONS}`;

/** The Cluster fields that make a cluster speak HTTP/2 (prior knowledge, no ALPN needed). */
export function http2ClusterPatch(): Record<string, unknown> {
  return {
    typed_extension_protocol_options: {
      [HTTP_PROTOCOL_OPTIONS]: { "@type": TYPE_HTTP_PROTOCOL_OPTIONS, explicit_http_config: { http2_protocol_options: {} } },
    },
  };
}
