// The contract between the Meltemi filter and the native router behind it in perRequest mode: how the
// filter writes the destination it picked into each request so that thrift_proxy / dubbo_proxy
// forwards it there. The route tables in thrift_proxy.ts and dubbo_proxy.ts are built from the same
// constants.
//
// Thrift: the filter prefixes the message name with "<cluster>:" (e.g. method `sayHello` becomes
//   `outbound|9090|v2|reviews.default.svc.cluster.local:sayHello`). thrift_proxy matches the prefix as a
//   `service_name` route and `strip_service_name` removes everything up to the first ':' before
//   forwarding, so the upstream sees the name the client sent and replies with it (Envoy
//   route.proto: RouteMatch.service_name, RouteAction.strip_service_name; router_impl.cc appends the ':').
//   Works with every transport and protocol, THeader or not. Istio cluster names hold no ':'.
// Dubbo: the filter adds the attachment `x-meltemi-cluster: <cluster>`; dubbo_proxy routes match it as a
//   header (dubbo_proxy route.proto: RouteMatch.headers are matched against attachments). The
//   attachment reaches the provider, which ignores unknown attachments.
// Either way, a request without a key (or with a key of no route) gets the native router's "no route"
// protocol error reply: that is how the filter rejects a request (limit, deny, abort, no route) with a
// reply it can then rewrite into the precise error.

export const THRIFT_CLUSTER_SEPARATOR = ":";
export const DUBBO_CLUSTER_ATTACHMENT = "x-meltemi-cluster";

/** The message name the filter writes for a Thrift request routed to `cluster`. */
export function thriftRoutedName(cluster: string, method: string): string {
  return `${cluster}${THRIFT_CLUSTER_SEPARATOR}${method}`;
}

/** Whether a cluster name can be carried as a Thrift service-name prefix. */
export function isThriftRoutable(cluster: string): boolean {
  return cluster.length > 0 && !cluster.includes(THRIFT_CLUSTER_SEPARATOR);
}
