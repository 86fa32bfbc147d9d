// DestinationRule consistent hashes (trafficPolicy.loadBalancer.consistentHash at top, port or subset
// level) on the clusters Meltemi routes to. Aeraki reads httpHeaderName as an RPC metadata key to hash
// endpoints on; Envoy's native Dubbo / Thrift routers and the Meltemi filter give the load balancer no
// per-request hash key, so none is applied. Said on the rule (it has no status of Meltemi's) and in the
// status of every router whose routes reach a cluster the hash applies to: never ignored silently.
import { outboundCluster } from "../discovery/hosts";
import type { ConsistentHash, SubsetIndex } from "../discovery/subsets";
import { describeRef } from "../k8s/objects";
import type { Diagnostics } from "./diagnostics";
import type { RouterIntent } from "./intent";
import type { RoutingMode } from "./protocols";
import { refKey } from "./status";

/** A destination of a route, its port resolved (translate.ts filterRoutes). */
export interface ResolvedDestination {
  host: string;
  subset?: string;
  port: number;
}

export function consistentHashText(h: ConsistentHash): string {
  const what = typeof h.hash.httpHeaderName === "string" ? `httpHeaderName "${h.hash.httpHeaderName}" (Aeraki: hash on that RPC metadata key)` : h.kind;
  return `consistentHash ${what} is not applied to RPC calls by Meltemi: Envoy's native Dubbo / Thrift routers and the Meltemi filter give the load balancer no per-request hash key, so endpoints are picked without one; for sticky routing across destinations use an RpcRouter route hashKey`;
}

/** The rule-level notes for one Meltemi host. */
export function reportHostConsistentHashes(host: string, subsets: SubsetIndex, diags: Diagnostics): void {
  for (const h of subsets.hostConsistentHashes(host)) diags.info(h.rule, "ConsistentHashNotApplied", `${host}: ${consistentHashText(h)}`, h.path);
}

/**
 * The router-level refusals, once per rule and path. perConnection keeps tcp_proxy, whose source-IP
 * hash Istio configures itself: `useSourceIp` is not reported there; every other kind is lost too.
 */
export function reportRouterConsistentHashes(router: RouterIntent, mode: RoutingMode, routeDestinations: readonly ResolvedDestination[][], subsets: SubsetIndex, diags: Diagnostics): void {
  const seen = new Set<string>();
  router.routes.forEach((r, i) => {
    for (const d of routeDestinations[i] ?? []) {
      for (const h of subsets.consistentHashes(d.host, d.subset, d.port)) {
        if (mode === "perConnection" && h.kind === "useSourceIp") continue;
        const key = `${refKey(h.rule)}|${h.path}`;
        if (seen.has(key)) continue;
        seen.add(key);
        diags.degrade(router.source, "ConsistentHashNotApplied", `${describeRef(h.rule)} ${h.path} (for ${outboundCluster(d.port, d.subset, d.host)}): ${consistentHashText(h)}`, r.path);
      }
    }
  });
}
