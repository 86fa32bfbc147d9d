// The API resources the controller reads and writes (the registry of kinds, controller/k8s/kinds.ts).
// Which version of each is served is found by API discovery (api_discovery.ts): a resource whose CRD is
// not installed (Aeraki's, or Istio's before Istio is installed) is simply not watched until it is.
export { INPUTS, OUTPUTS, RATE_LIMIT_CONFIG_MAP, TRAFFIC_EXTENSION, apiVersionOf, type InputResource, type OutputResource, type Resource } from "../k8s/kinds";

/** The REST path of a resource's collection (all namespaces when `namespace` is undefined). */
export function collectionPath(group: string, version: string, plural: string, namespace?: string): string {
  const base = group === "" ? `/api/${version}` : `/apis/${group}/${version}`;
  return namespace === undefined ? `${base}/${plural}` : `${base}/namespaces/${encodeURIComponent(namespace)}/${plural}`;
}

export function objectPath(group: string, version: string, plural: string, namespace: string | undefined, name: string): string {
  return `${collectionPath(group, version, plural, namespace)}/${encodeURIComponent(name)}`;
}
