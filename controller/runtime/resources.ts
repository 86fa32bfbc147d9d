// The API resources the controller reads (the registry of input kinds, controller/k8s/kinds.ts) and writes.
// Which version of each is served is found by API discovery (api_discovery.ts): a resource whose CRD is
// not installed (Aeraki's, or Istio's before Istio is installed) is simply not watched until it is.
import type { Resource } from "../k8s/kinds";

export { INPUTS, apiVersionOf, type InputResource, type Resource } from "../k8s/kinds";

const ISTIO_NETWORKING = "networking.istio.io";

/** Istio 1.30+: supersedes WasmPlugin; served only where istiod installed its CRD. */
export const TRAFFIC_EXTENSION: Resource = { group: "extensions.istio.io", versions: ["v1alpha1"], plural: "trafficextensions", kind: "TrafficExtension", namespaced: true };

/**
 * What the translation emits. Watched whole (a user's object may hold a name Meltemi wants), but only
 * objects labelled managed-by=meltemi are ever changed or deleted.
 */
export const OUTPUTS: readonly Resource[] = [
  { group: "extensions.istio.io", versions: ["v1alpha1"], plural: "wasmplugins", kind: "WasmPlugin", namespaced: true },
  TRAFFIC_EXTENSION,
  { group: ISTIO_NETWORKING, versions: ["v1alpha3"], plural: "envoyfilters", kind: "EnvoyFilter", namespaced: true },
];

/** The REST path of a resource's collection (all namespaces when `namespace` is undefined). */
export function collectionPath(group: string, version: string, plural: string, namespace?: string): string {
  const base = group === "" ? `/api/${version}` : `/apis/${group}/${version}`;
  return namespace === undefined ? `${base}/${plural}` : `${base}/namespaces/${encodeURIComponent(namespace)}/${plural}`;
}

export function objectPath(group: string, version: string, plural: string, namespace: string | undefined, name: string): string {
  return `${collectionPath(group, version, plural, namespace)}/${encodeURIComponent(name)}`;
}
