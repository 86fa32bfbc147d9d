// HTTP/2 for the rate limit service's cluster where Istio built it for plain TCP (a Service port named
// tcp-*, as in Aeraki's demo: global_rate_limit.ts rateLimitServiceProblem): an EnvoyFilter that MERGEs
// HTTP/2 protocol options into that one outbound cluster (envoy/http2_cluster.ts), in exactly the
// workloads whose filter configuration carries the global limit: the serving plugin's selector, in its
// namespace. Istio matches a CLUSTER patch with `cluster.name` by the exact cluster name and merges the
// value into it (istio/istio pilot/pkg/networking/core/envoyfilter/cluster_patch.go clusterMatch,
// ApplyClusterMerge). Owned by the input whose limit needs it (same namespace: the limit's own).
import type { KubeObject, ObjectRef } from "../k8s/objects";
import { NETWORKING_API } from "./client_envoy_filter";
import { http2ClusterPatch } from "./envoy/http2_cluster";
import { generatedMeta, objectName } from "./ownership";

export interface RateLimitHttp2Input {
  /** The serving plugin's name base and port (the EnvoyFilter is named after it). */
  nameBase: string;
  targetPort: number;
  namespace: string;
  /** The serving plugin's workload selector. */
  selector: Record<string, string>;
  owner: ObjectRef;
  /** The rate limit services' clusters to give HTTP/2 (sorted, no duplicates here). */
  clusters: string[];
}

export function rateLimitHttp2FilterName(nameBase: string, targetPort: number): string {
  return objectName("meltemi-rls-http2", nameBase, targetPort);
}

export function rateLimitHttp2Filter(input: RateLimitHttp2Input): KubeObject {
  const metadata = generatedMeta(rateLimitHttp2FilterName(input.nameBase, input.targetPort), input.namespace, input.owner, "server");
  const configPatches = [...new Set(input.clusters)].sort().map((name) => ({
    applyTo: "CLUSTER",
    match: { context: "SIDECAR_OUTBOUND", cluster: { name } },
    patch: { operation: "MERGE", value: http2ClusterPatch() },
  }));
  return {
    apiVersion: NETWORKING_API,
    kind: "EnvoyFilter",
    metadata,
    spec: { workloadSelector: { labels: input.selector }, configPatches },
  };
}
