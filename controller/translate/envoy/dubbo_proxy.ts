// dubbo_proxy for perRequest mode: one route per cluster the filter may pick, matched on the
// `x-meltemi-cluster` attachment the filter writes (routing_key.ts). Any interface ("*").
import { DUBBO_CLUSTER_ATTACHMENT } from "./routing_key";
import { DUBBO_PROXY, TYPE_DUBBO_PROXY } from "./names";

export interface DubboProxyOptions {
  statPrefix: string;
  routeConfigName: string;
  clusters: readonly string[];
}

export function dubboRouteConfiguration(name: string, clusters: readonly string[]): Record<string, unknown> {
  const routes = [...new Set(clusters)].map((cluster) => ({
    match: {
      // dubbo_proxy always matches the method name: a matcher that accepts any.
      method: { name: { safe_regex: { regex: ".*" } } },
      headers: [{ name: DUBBO_CLUSTER_ATTACHMENT, string_match: { exact: cluster } }],
    },
    route: { cluster },
  }));
  return { name, route_config: [{ name, interface: "*", routes }] };
}

/** The dubbo_proxy typed_config (multiple_route_config: route_config is deprecated). */
export function dubboProxyConfig(opts: DubboProxyOptions): Record<string, unknown> {
  return {
    "@type": TYPE_DUBBO_PROXY,
    stat_prefix: opts.statPrefix,
    protocol_type: "Dubbo",
    serialization_type: "Hessian2",
    multiple_route_config: dubboRouteConfiguration(opts.routeConfigName, opts.clusters),
  };
}

export function dubboProxyFilter(opts: DubboProxyOptions): Record<string, unknown> {
  return { name: DUBBO_PROXY, typed_config: dubboProxyConfig(opts) };
}
