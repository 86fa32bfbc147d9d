// DestinationRules asking for consistent hashing (trafficPolicy.loadBalancer.consistentHash) on a
// host that Meltemi routes. Aeraki hashes endpoints on the metadata key named by httpHeaderName; the
// native routers behind Meltemi do not, so a router sending traffic to such a host is applied in part
// and must say so in its own status (the DestinationRule has no status Meltemi writes).
import { resolveHost } from "../discovery/hosts";
import { describeRef, refOf, type DestinationRule } from "../k8s/objects";

/** Host -> what to tell the routers that send traffic there. */
export function unappliedConsistentHash(rules: readonly DestinationRule[], clusterDomain: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const dr of rules) {
    const spec = dr.spec && typeof dr.spec === "object" ? dr.spec : {};
    const hash = spec.trafficPolicy?.loadBalancer?.consistentHash;
    if (typeof spec.host !== "string" || spec.host === "" || !hash) continue;
    const host = resolveHost(spec.host, dr.metadata.namespace ?? "default", clusterDomain);
    if (out.has(host)) continue;
    const on = typeof hash.httpHeaderName === "string" ? ` on "${hash.httpHeaderName}"` : "";
    out.set(host, `${describeRef(refOf(dr))} asks for consistent hashing${on} for ${host}; Meltemi does not apply it (its endpoints are balanced by the cluster's policy); for sticky routing across destinations use an RpcRouter route hashKey`);
  }
  return out;
}
