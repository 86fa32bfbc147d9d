// DestinationRule subsets by service host: a route to subset v2 of a host becomes the Istio cluster
// `outbound|<port>|v2|<host>`, which exists only when a DestinationRule defines that subset.
import type { Diagnostics } from "../translate/diagnostics";
import { refOf, type DestinationRule } from "../k8s/objects";
import { resolveHost } from "./hosts";

export interface SubsetIndex {
  subsets(host: string): ReadonlySet<string>;
  /** The labels a subset selects pods by; undefined when no DestinationRule defines it. */
  labels(host: string, subset: string): Record<string, string> | undefined;
}

export function indexSubsets(rules: DestinationRule[], clusterDomain: string, diags: Diagnostics): SubsetIndex {
  const byHost = new Map<string, Set<string>>();
  const labelsOf = new Map<string, Record<string, string>>();
  for (const dr of rules) {
    const spec = dr.spec && typeof dr.spec === "object" ? dr.spec : {};
    if (typeof spec.host !== "string" || spec.host === "") continue;
    const host = resolveHost(spec.host, dr.metadata.namespace ?? "default", clusterDomain);
    const set = byHost.get(host) ?? new Set<string>();
    for (const s of Array.isArray(spec.subsets) ? spec.subsets : []) {
      if (!s || typeof s.name !== "string") continue;
      set.add(s.name);
      const labels = s.labels && typeof s.labels === "object" ? (s.labels as Record<string, string>) : {};
      if (!labelsOf.has(`${host}|${s.name}`)) labelsOf.set(`${host}|${s.name}`, labels);
    }
    byHost.set(host, set);
    const hash = spec.trafficPolicy?.loadBalancer?.consistentHash;
    if (hash && typeof hash.httpHeaderName === "string") {
      // Aeraki reads httpHeaderName as a metadata key for hashing within the cluster; the native
      // routers behind Meltemi hash on nothing of the kind.
      diags.info(
        refOf(dr),
        "ConsistentHashNotApplied",
        `consistentHash.httpHeaderName "${hash.httpHeaderName}" is not applied to RPC metadata by Meltemi (endpoints are balanced by the cluster's policy); for sticky routing across destinations use an RpcRouter route hashKey`,
        "spec.trafficPolicy.loadBalancer.consistentHash",
      );
    }
  }
  const empty = new Set<string>();
  return { subsets: (host) => byHost.get(host) ?? empty, labels: (host, subset) => labelsOf.get(`${host}|${subset}`) };
}
