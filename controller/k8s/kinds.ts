// The registry of kinds: every kind the controller reads (INPUTS: one slot of the translation's snapshot
// each) and writes (OUTPUTS), with its API group, versions, plural and scope. The runtime's informers,
// apply and status writer, `render`'s classification of files and the adaptive engine all derive from
// these lists.
import { GROUP as MELTEMI_GROUP, VERSION as MELTEMI_VERSION, type CrdDefinition } from "../api/schema/definition";
import { rpcAuthorizationPolicy } from "../api/schema/rpc_authorization_policy";
import { rpcProtocol } from "../api/schema/rpc_protocol";
import { rpcRateLimit } from "../api/schema/rpc_rate_limit";
import { rpcRouter } from "../api/schema/rpc_router";
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
  /**
   * Read as a cluster-wide registration (a protocol's name): `render` drops the namespace a file gives
   * it. Aeraki's ApplicationProtocol is namespaced in its CRD but is such a registration.
   */
  clusterWide?: true;
}

const ISTIO_NETWORKING = "networking.istio.io";
const SLIME_GROUP = "microservice.slime.io";
const METAPROTOCOL_GROUP = "metaprotocol.aeraki.io";
const DUBBO_GROUP = "dubbo.aeraki.io";
const ISTIO_TELEMETRY = "telemetry.istio.io";

/** A Meltemi kind: plural, kind and scope from its CRD definition (controller/api/schema/). */
const meltemi = (crd: CrdDefinition, slot: keyof Snapshot): InputResource =>
  ({ group: MELTEMI_GROUP, versions: [MELTEMI_VERSION], plural: crd.plural, kind: crd.kind, namespaced: crd.scope === "Namespaced", slot, hasStatus: true });

export const INPUTS: readonly InputResource[] = [
  { group: "", versions: ["v1"], plural: "services", kind: "Service", namespaced: true, slot: "services", hasStatus: false },
  { group: ISTIO_NETWORKING, versions: ["v1", "v1beta1", "v1alpha3"], plural: "serviceentries", kind: "ServiceEntry", namespaced: true, slot: "serviceEntries", hasStatus: false },
  { group: ISTIO_NETWORKING, versions: ["v1", "v1beta1", "v1alpha3"], plural: "destinationrules", kind: "DestinationRule", namespaced: true, slot: "destinationRules", hasStatus: false },
  // Istio's Telemetry: its tracing entries (providers, sampling) become the filter's (translate/tracing.ts).
  { group: ISTIO_TELEMETRY, versions: ["v1", "v1alpha1"], plural: "telemetries", kind: "Telemetry", namespaced: true, slot: "telemetries", hasStatus: false },
  { ...meltemi(rpcProtocol, "rpcProtocols"), clusterWide: true },
  meltemi(rpcRouter, "rpcRouters"),
  meltemi(rpcRateLimit, "rpcRateLimits"),
  meltemi(rpcAuthorizationPolicy, "rpcAuthorizationPolicies"),
  // Aeraki's CRDs (aeraki-mesh/aeraki k8s/crd.yaml): all three namespaced, with a status subresource
  // whose schema preserves unknown fields. The runtime takes scope from discovery, not from here.
  { group: METAPROTOCOL_GROUP, versions: ["v1alpha1"], plural: "applicationprotocols", kind: "ApplicationProtocol", namespaced: true, slot: "applicationProtocols", hasStatus: true, clusterWide: true },
  { group: METAPROTOCOL_GROUP, versions: ["v1alpha1"], plural: "metarouters", kind: "MetaRouter", namespaced: true, slot: "metaRouters", hasStatus: true },
  { group: DUBBO_GROUP, versions: ["v1alpha1"], plural: "dubboauthorizationpolicies", kind: "DubboAuthorizationPolicy", namespaced: true, slot: "dubboAuthorizationPolicies", hasStatus: true },
  // Slime's SmartLimiter (manifests/slime/ installs its CRD where Slime is absent).
  { group: SLIME_GROUP, versions: ["v1alpha2"], plural: "smartlimiters", kind: "SmartLimiter", namespaced: true, slot: "smartLimiters", hasStatus: true },
];

/** Istio 1.30+: supersedes WasmPlugin; served only where istiod installed its CRD. */
export const TRAFFIC_EXTENSION: Resource = { group: "extensions.istio.io", versions: ["v1alpha1"], plural: "trafficextensions", kind: "TrafficExtension", namespaced: true };

export interface OutputResource extends Resource {
  /**
   * Only one object of this kind is ever written, at the namespace and name the translation options give
   * (the rate limit service's ConfigMap): the runtime watches only that object (a field selector in that
   * namespace), so its RBAC is a Role on that one name, not a cluster-wide rule on the whole kind.
   */
  singleObject?: true;
  /** The reason reported on the inputs when a user's object holds the name (default NameTaken). */
  takenReason?: string;
  /**
   * A failed write is reported on the inputs with this reason (Ready=False) as well as retried; without
   * it a failed write is only retried (the inputs' last outputs stay in force meanwhile).
   */
  notWrittenReason?: string;
}

/** The rate limit service's configuration (Slime's `global` limits; controller/translate/slime_global.ts). */
export const RATE_LIMIT_CONFIG_MAP: OutputResource = {
  group: "", versions: ["v1"], plural: "configmaps", kind: "ConfigMap", namespaced: true, singleObject: true,
  takenReason: "RateLimitConfigConflict", notWrittenReason: "RateLimitConfigNotWritten",
};

/**
 * What the translation emits. Watched whole (a user's object may hold a name Meltemi wants; a
 * single-object kind: that one name), but only objects labelled managed-by=meltemi are ever changed or
 * deleted.
 */
export const OUTPUTS: readonly OutputResource[] = [
  { group: "extensions.istio.io", versions: ["v1alpha1"], plural: "wasmplugins", kind: "WasmPlugin", namespaced: true },
  TRAFFIC_EXTENSION,
  { group: ISTIO_NETWORKING, versions: ["v1alpha3"], plural: "envoyfilters", kind: "EnvoyFilter", namespaced: true },
  RATE_LIMIT_CONFIG_MAP,
];

export function apiVersionOf(group: string, version: string): string {
  return group === "" ? version : `${group}/${version}`;
}

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** The input kind of an object by group and kind (any version: the runtime reads the served one). */
export function inputResourceOf(apiVersion: string, kind: string): InputResource | undefined {
  const { group } = splitApiVersion(apiVersion);
  return INPUTS.find((r) => r.kind === kind && r.group === group);
}

/** The input kind of an object in a file: group, kind and one of the registry's versions. */
export function inputResourceOfVersion(apiVersion: string, kind: string): InputResource | undefined {
  const { group, version } = splitApiVersion(apiVersion);
  return INPUTS.find((r) => r.kind === kind && r.group === group && r.versions.includes(version));
}

export function inputResourceOfKind(kind: string): InputResource {
  const r = INPUTS.find((i) => i.kind === kind);
  if (!r) throw new Error(`${kind} is not an input kind`);
  return r;
}
