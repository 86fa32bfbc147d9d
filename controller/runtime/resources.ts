// The API resources the controller reads (every slot of the translation's snapshot) and writes.
// Which version of each is served is found by API discovery (api_discovery.ts): a resource whose CRD is
// not installed (Aeraki's, or Istio's before Istio is installed) is simply not watched until it is.
import { GROUP as MELTEMI_GROUP, VERSION as MELTEMI_VERSION } from "../api/schema/definition";
import type { Snapshot } from "../translate/snapshot";

export interface Resource {
  /** "" for the core group. */
  group: string;
  /** Versions in order of preference; the first one served is used. */
  versions: string[];
  plural: string;
  kind: string;
  namespaced: boolean;
}

export interface InputResource extends Resource {
  slot: keyof Snapshot;
  /** The controller writes `status` (status subresource); otherwise its diagnostics become Events. */
  hasStatus: boolean;
}

const ISTIO_NETWORKING = "networking.istio.io";
const meltemi = (plural: string, kind: string, slot: keyof Snapshot, namespaced = true): InputResource =>
  ({ group: MELTEMI_GROUP, versions: [MELTEMI_VERSION], plural, kind, namespaced, slot, hasStatus: true });

export const INPUTS: readonly InputResource[] = [
  { group: "", versions: ["v1"], plural: "services", kind: "Service", namespaced: true, slot: "services", hasStatus: false },
  { group: ISTIO_NETWORKING, versions: ["v1", "v1beta1", "v1alpha3"], plural: "serviceentries", kind: "ServiceEntry", namespaced: true, slot: "serviceEntries", hasStatus: false },
  { group: ISTIO_NETWORKING, versions: ["v1", "v1beta1", "v1alpha3"], plural: "destinationrules", kind: "DestinationRule", namespaced: true, slot: "destinationRules", hasStatus: false },
  meltemi("rpcprotocols", "RpcProtocol", "rpcProtocols", false),
  meltemi("rpcrouters", "RpcRouter", "rpcRouters"),
  meltemi("rpcratelimits", "RpcRateLimit", "rpcRateLimits"),
  meltemi("rpcauthorizationpolicies", "RpcAuthorizationPolicy", "rpcAuthorizationPolicies"),
  // Aeraki's CRDs (aeraki-mesh/aeraki k8s/crd.yaml): all three namespaced, with a status subresource
  // whose schema preserves unknown fields. Aeraki's ApplicationProtocol is namespaced there although
  // it reads as a cluster-wide registration; scope is taken from discovery, not from here.
  { group: "metaprotocol.aeraki.io", versions: ["v1alpha1"], plural: "applicationprotocols", kind: "ApplicationProtocol", namespaced: true, slot: "applicationProtocols", hasStatus: true },
  { group: "metaprotocol.aeraki.io", versions: ["v1alpha1"], plural: "metarouters", kind: "MetaRouter", namespaced: true, slot: "metaRouters", hasStatus: true },
  { group: "dubbo.aeraki.io", versions: ["v1alpha1"], plural: "dubboauthorizationpolicies", kind: "DubboAuthorizationPolicy", namespaced: true, slot: "dubboAuthorizationPolicies", hasStatus: true },
  // Slime's SmartLimiter (manifests/slime/ installs its CRD where Slime is absent).
  { group: "microservice.slime.io", versions: ["v1alpha2"], plural: "smartlimiters", kind: "SmartLimiter", namespaced: true, slot: "smartLimiters", hasStatus: true },
];

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

export function apiVersionOf(group: string, version: string): string {
  return group === "" ? version : `${group}/${version}`;
}

/** The REST path of a resource's collection (all namespaces when `namespace` is undefined). */
export function collectionPath(group: string, version: string, plural: string, namespace?: string): string {
  const base = group === "" ? `/api/${version}` : `/apis/${group}/${version}`;
  return namespace === undefined ? `${base}/${plural}` : `${base}/namespaces/${encodeURIComponent(namespace)}/${plural}`;
}

export function objectPath(group: string, version: string, plural: string, namespace: string | undefined, name: string): string {
  return `${collectionPath(group, version, plural, namespace)}/${encodeURIComponent(name)}`;
}
