// thrift_proxy for perRequest mode: one route per cluster the filter may pick, matched on the
// "<cluster>:" prefix the filter writes into the message name (routing_key.ts); a route may mirror
// the requests it forwards to another cluster.
import { isThriftRoutable } from "./routing_key";
import { THRIFT_PROXY, TYPE_THRIFT_PROXY } from "./names";

export type ThriftTransport = "AUTO_TRANSPORT" | "FRAMED" | "UNFRAMED" | "HEADER";
export type ThriftProtocol = "AUTO_PROTOCOL" | "BINARY" | "LAX_BINARY" | "COMPACT" | "TWITTER";

/** Traffic mirroring of the requests routed to one cluster (Aeraki's MetaRouter mirror / mirrorPercentage). */
export interface ThriftMirror {
  /** The cluster that gets a copy ("fire and forget": its replies are dropped by Envoy). */
  cluster: string;
  /** 0..100; undefined: every request. */
  percent?: number;
}

export interface ThriftProxyOptions {
  statPrefix: string;
  routeConfigName: string;
  /** Every cluster the filter may write, in order; duplicates are dropped. */
  clusters: readonly string[];
  /** Mirrors of the requests routed to a cluster, by that cluster. */
  mirrors?: ReadonlyMap<string, ThriftMirror>;
  transport?: ThriftTransport;
  protocol?: ThriftProtocol;
}

/**
 * thrift_proxy's RouteAction.request_mirror_policies entry (envoy api extensions/filters/network/
 * thrift_proxy/v3/route.proto): a cluster and a RuntimeFractionalPercent, here a fixed fraction per
 * million (no runtime key), as Istio turns a VirtualService mirrorPercentage into one.
 */
function mirrorPolicy(m: ThriftMirror): Record<string, unknown> {
  const policy: Record<string, unknown> = { cluster: m.cluster };
  if (m.percent !== undefined && m.percent < 100) {
    policy.runtime_fraction = { default_value: { numerator: Math.round(m.percent * 10_000), denominator: "MILLION" } };
  }
  return policy;
}

export function thriftRouteConfiguration(name: string, clusters: readonly string[], mirrors?: ReadonlyMap<string, ThriftMirror>): Record<string, unknown> {
  const routes = [...new Set(clusters)].map((cluster) => {
    if (!isThriftRoutable(cluster)) throw new RangeError(`cluster "${cluster}" cannot be a Thrift routing prefix`);
    const route: Record<string, unknown> = { cluster, strip_service_name: true };
    const mirror = mirrors?.get(cluster);
    if (mirror) route.request_mirror_policies = [mirrorPolicy(mirror)];
    return { match: { service_name: cluster }, route };
  });
  // A route to a cluster that does not exist (yet) must not reject the whole listener: with
  // validate_clusters false Envoy answers such requests with an internal-error exception instead.
  return { name, validate_clusters: false, routes };
}

/** The thrift_proxy typed_config. */
export function thriftProxyConfig(opts: ThriftProxyOptions): Record<string, unknown> {
  return {
    "@type": TYPE_THRIFT_PROXY,
    stat_prefix: opts.statPrefix,
    transport: opts.transport ?? "AUTO_TRANSPORT",
    protocol: opts.protocol ?? "AUTO_PROTOCOL",
    route_config: thriftRouteConfiguration(opts.routeConfigName, opts.clusters, opts.mirrors),
  };
}

export function thriftProxyFilter(opts: ThriftProxyOptions): Record<string, unknown> {
  return { name: THRIFT_PROXY, typed_config: thriftProxyConfig(opts) };
}
