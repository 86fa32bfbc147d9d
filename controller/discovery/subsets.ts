// DestinationRule subsets by service host: a route to subset v2 of a host becomes the Istio cluster
// `outbound|<port>|v2|<host>`, which exists only when a DestinationRule defines that subset.
import { refOf, type DestinationRule, type DestinationRuleTrafficPolicy, type ObjectRef } from "../k8s/objects";
import { resolveHost } from "./hosts";

/** A DestinationRule load-balancer consistentHash (Istio's, read by Aeraki as "hash on this RPC metadata key"). */
export interface ConsistentHash {
  rule: ObjectRef;
  /** Where in the DestinationRule, e.g. spec.subsets[0].trafficPolicy.loadBalancer.consistentHash. */
  path: string;
  /** undefined: the whole host (top level); else that subset only. */
  subset?: string;
  /** undefined: every port; else port-level settings of that port. */
  port?: number;
  /** The kind of hash: httpHeaderName, useSourceIp, httpCookie, httpQueryParameterName... */
  kind: string;
  hash: Record<string, unknown>;
}

export interface SubsetIndex {
  subsets(host: string): ReadonlySet<string>;
  /** The labels a subset selects pods by; undefined when no DestinationRule defines it. */
  labels(host: string, subset: string): Record<string, string> | undefined;
  /** The consistent hashes that apply to the cluster of (host, subset, port): top level, port level, subset level. */
  consistentHashes(host: string, subset: string | undefined, port: number): ConsistentHash[];
  /** Every consistent hash of a host's DestinationRules. */
  hostConsistentHashes(host: string): ConsistentHash[];
}

const HASH_KINDS = ["httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName", "ringHash", "maglev"];

/** The consistent hashes of one trafficPolicy (its loadBalancer and its portLevelSettings). */
function hashesOf(policy: DestinationRuleTrafficPolicy | undefined, path: string, base: Omit<ConsistentHash, "path" | "kind" | "hash">): ConsistentHash[] {
  if (!policy || typeof policy !== "object") return [];
  const out: ConsistentHash[] = [];
  const add = (hash: unknown, at: string, port?: number) => {
    if (!hash || typeof hash !== "object") return;
    const h = hash as Record<string, unknown>;
    const kind = HASH_KINDS.find((k) => h[k] !== undefined) ?? "consistentHash";
    out.push({ ...base, ...(port !== undefined ? { port } : {}), path: at, kind, hash: h });
  };
  add(policy.loadBalancer?.consistentHash, `${path}.loadBalancer.consistentHash`);
  (Array.isArray(policy.portLevelSettings) ? policy.portLevelSettings : []).forEach((pl, i) => {
    if (typeof pl?.port?.number === "number") add(pl.loadBalancer?.consistentHash, `${path}.portLevelSettings[${i}].loadBalancer.consistentHash`, pl.port.number);
  });
  return out;
}

export function indexSubsets(rules: DestinationRule[], clusterDomain: string): SubsetIndex {
  const byHost = new Map<string, Set<string>>();
  const labelsOf = new Map<string, Record<string, string>>();
  const hashesByHost = new Map<string, ConsistentHash[]>();
  for (const dr of rules) {
    const spec = dr.spec && typeof dr.spec === "object" ? dr.spec : {};
    if (typeof spec.host !== "string" || spec.host === "") continue;
    const host = resolveHost(spec.host, dr.metadata.namespace ?? "default", clusterDomain);
    const set = byHost.get(host) ?? new Set<string>();
    const hashes = hashesOf(spec.trafficPolicy, "spec.trafficPolicy", { rule: refOf(dr) });
    (Array.isArray(spec.subsets) ? spec.subsets : []).forEach((s, i) => {
      if (s && typeof s.name === "string") hashes.push(...hashesOf(s.trafficPolicy, `spec.subsets[${i}].trafficPolicy`, { rule: refOf(dr), subset: s.name }));
    });
    if (hashes.length > 0) hashesByHost.set(host, [...(hashesByHost.get(host) ?? []), ...hashes]);
    for (const s of Array.isArray(spec.subsets) ? spec.subsets : []) {
      if (!s || typeof s.name !== "string") continue;
      set.add(s.name);
      const labels = s.labels && typeof s.labels === "object" ? (s.labels as Record<string, string>) : {};
      if (!labelsOf.has(`${host}|${s.name}`)) labelsOf.set(`${host}|${s.name}`, labels);
    }
    byHost.set(host, set);
  }
  const empty = new Set<string>();
  return {
    subsets: (host) => byHost.get(host) ?? empty,
    labels: (host, subset) => labelsOf.get(`${host}|${subset}`),
    hostConsistentHashes: (host) => hashesByHost.get(host) ?? [],
    consistentHashes: (host, subset, port) =>
      (hashesByHost.get(host) ?? []).filter((h) => (h.subset === undefined || h.subset === subset) && (h.port === undefined || h.port === port)),
  };
}
