// The ready pods of a service, from its EndpointSlices (discovery.k8s.io/v1), and of a DestinationRule
// subset (the pods whose labels hold the subset's labels). `{{.<set>.pod}}` is their number and
// `$pod_name` their names.
//
// EndpointSlice facts (Kubernetes API reference): the label `kubernetes.io/service-name` names the
// service; `endpoints[].conditions.ready` nil means ready; `targetRef` names the Pod. A pod with several
// addresses, or listed in several slices (dual stack), is one pod.

export interface EndpointSlice {
  metadata: { name?: string; namespace?: string; labels?: Record<string, string> };
  endpoints?: { conditions?: { ready?: boolean | null }; targetRef?: { kind?: string; name?: string; namespace?: string } }[];
}

export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

/** Names of the service's ready pods, sorted, each once. */
export function readyPodNames(slices: readonly EndpointSlice[], namespace: string, service: string): string[] {
  const names = new Set<string>();
  for (const s of slices) {
    if ((s.metadata.namespace ?? "default") !== namespace || s.metadata.labels?.[SERVICE_NAME_LABEL] !== service) continue;
    for (const e of s.endpoints ?? []) {
      if (e.conditions?.ready === false) continue;
      if (e.targetRef?.kind !== "Pod" || !e.targetRef.name) continue;
      names.add(e.targetRef.name);
    }
  }
  return [...names].sort();
}

/**
 * The pods of a subset: those whose labels hold every subset label. null when a pod's labels are not
 * known (the caller reports it rather than counting wrong).
 */
export function podsOfSubset(pods: readonly string[], subsetLabels: Record<string, string>, podLabels: (name: string) => Record<string, string> | undefined): string[] | null {
  const out: string[] = [];
  for (const name of pods) {
    const labels = podLabels(name);
    if (!labels) return null;
    if (Object.entries(subsetLabels).every(([k, v]) => labels[k] === v)) out.push(name);
  }
  return out;
}

/** A PodSource over EndpointSlices (and, for subsets, pod labels and DestinationRule subset labels). */
export function endpointSlicePods(input: {
  slices: readonly EndpointSlice[];
  /** A pod's labels (undefined: not known); needed only for subset sets. */
  podLabels?: (namespace: string, name: string) => Record<string, string> | undefined;
  /** The labels of a DestinationRule subset of a host; undefined when no DestinationRule defines it. */
  subsetLabels?: (host: string, subset: string) => Record<string, string> | undefined;
  /**
   * "namespace/service" -> why its EndpointSlices could not be read. Such a service's pods are
   * unknown (PodsUnknown: the last good quotas stay), not zero.
   */
  unreadable?: ReadonlyMap<string, string>;
}): { podsOf(limiter: { namespace: string; service: string; host: string }, set: string): string[] | string } {
  return {
    podsOf(limiter, set) {
      const why = input.unreadable?.get(`${limiter.namespace}/${limiter.service}`);
      if (why !== undefined) return `the EndpointSlices of ${limiter.namespace}/${limiter.service} could not be read: ${why}`;
      const pods = readyPodNames(input.slices, limiter.namespace, limiter.service);
      if (set === "_base") return pods;
      const labels = input.subsetLabels?.(limiter.host, set);
      if (!labels) return `no DestinationRule defines subset "${set}" of ${limiter.host}`;
      const members = podsOfSubset(pods, labels, (name) => input.podLabels?.(limiter.namespace, name));
      return members ?? `the labels of the pods of ${limiter.service} are not known`;
    },
  };
}
