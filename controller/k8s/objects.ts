// The Kubernetes and Istio objects the translation reads and writes, as far as it uses them.
// Inputs come from users: every field is optional here and checked where it is read.

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  /** Set by the API server (the runtime reads it; the translation never does). */
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObject<Spec = unknown> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Spec;
  /** A ConfigMap's data (the one output kind without a spec). */
  data?: Record<string, string>;
  status?: unknown;
}

/** Names one input or output object (diagnostics, status, owner references). */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
  generation?: number;
}

export function refOf(obj: KubeObject): ObjectRef {
  const ref: ObjectRef = { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name ?? "" };
  if (obj.metadata.namespace !== undefined) ref.namespace = obj.metadata.namespace;
  if (obj.metadata.uid !== undefined) ref.uid = obj.metadata.uid;
  if (obj.metadata.generation !== undefined) ref.generation = obj.metadata.generation;
  return ref;
}

/**
 * `Kind/namespace/name` (namespace empty for cluster-scoped objects): the key of an input in maps
 * (limiters, owners) and the value of the owner annotation on generated objects.
 */
export function objectKey(ref: { kind: string; namespace?: string | undefined; name: string }): string {
  return `${ref.kind}/${ref.namespace ?? ""}/${ref.name}`;
}

export function describeRef(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ""}${ref.name}`;
}

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
}

export interface ServiceSpec {
  selector?: Record<string, string>;
  ports?: ServicePort[];
  clusterIP?: string;
  clusterIPs?: string[];
  type?: string;
}

export interface ServiceEntryPort {
  number: number;
  name?: string;
  protocol?: string;
  targetPort?: number;
}

export interface ServiceEntrySpec {
  hosts?: string[];
  addresses?: string[];
  ports?: ServiceEntryPort[];
  workloadSelector?: { labels?: Record<string, string> };
  resolution?: string;
}

export interface DestinationRuleTrafficPolicy {
  loadBalancer?: { consistentHash?: Record<string, unknown> };
  portLevelSettings?: { port?: { number?: number }; loadBalancer?: { consistentHash?: Record<string, unknown> } }[];
}

export interface DestinationRuleSpec {
  host?: string;
  subsets?: { name?: string; labels?: Record<string, string>; trafficPolicy?: DestinationRuleTrafficPolicy }[];
  trafficPolicy?: DestinationRuleTrafficPolicy;
}

export type Service = KubeObject<ServiceSpec>;
export type ServiceEntry = KubeObject<ServiceEntrySpec>;
export type DestinationRule = KubeObject<DestinationRuleSpec>;

export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY = "meltemi";
