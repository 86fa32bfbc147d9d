// thrift_proxy for perRequest mode: one route per cluster the filter may pick, matched on the
// "<cluster>:" prefix the filter writes into the message name (routing_key.ts).
import { isThriftRoutable } from "./routing_key";
import { THRIFT_PROXY, TYPE_THRIFT_PROXY } from "./names";

export type ThriftTransport = "AUTO_TRANSPORT" | "FRAMED" | "UNFRAMED" | "HEADER";
export type ThriftProtocol = "AUTO_PROTOCOL" | "BINARY" | "LAX_BINARY" | "COMPACT" | "TWITTER";

export interface ThriftProxyOptions {
  statPrefix: string;
  routeConfigName: string;
  /** Every cluster the filter may write, in order; duplicates are dropped. */
  clusters: readonly string[];
  transport?: ThriftTransport;
  protocol?: ThriftProtocol;
}

export function thriftRouteConfiguration(name: string, clusters: readonly string[]): Record<string, unknown> {
  const routes = [...new Set(clusters)].map((cluster) => {
    if (!isThriftRoutable(cluster)) throw new RangeError(`cluster "${cluster}" cannot be a Thrift routing prefix`);
    return { match: { service_name: cluster }, route: { cluster, strip_service_name: true } };
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
    route_config: thriftRouteConfiguration(opts.routeConfigName, opts.clusters),
  };
}

export function thriftProxyFilter(opts: ThriftProxyOptions): Record<string, unknown> {
  return { name: THRIFT_PROXY, typed_config: thriftProxyConfig(opts) };
}
