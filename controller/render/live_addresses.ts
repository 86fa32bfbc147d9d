// `render --kubeconfig`: the VIPs a Git repository cannot hold, read from a live cluster.
//
// Callers' routing patches the outbound listener `<vip>_<port>` (translate/client_envoy_filter.ts), but
// Services and ServiceEntries in Git have no VIP: the API server allocates a Service's clusterIP when it
// is created, and a ServiceEntry without addresses gets one from Istio's allocator (status.addresses) or
// from Aeraki's (which writes spec.addresses: aeraki-mesh/aeraki internal/controller/kube/serviceentry.go).
// This reads the same objects (by namespace and name) from the cluster and copies only their addresses
// into the rendered input; everything else stays as the files say. Read-only GETs, a few at a time.
import type { Service, ServiceEntry } from "../k8s/objects";
import { forEachLimited } from "../runtime/parallel";
import type { Snapshot } from "../translate/snapshot";

/** GETs an object by API path; undefined when the cluster has none (404). Throws on other failures. */
export type GetObject = (path: string) => Promise<Record<string, unknown> | undefined>;

export interface LiveAddressReport {
  /** `Kind ns/name: 10.0.0.1` for each object that got addresses from the cluster. */
  resolved: string[];
  /** `Kind ns/name: why` for each object that still has none. */
  unresolved: string[];
}

const LOOKUPS_IN_FLIGHT = 8;

function serviceHasVip(svc: Service): boolean {
  const spec = svc.spec ?? {};
  return Boolean(spec.clusterIP) || (Array.isArray(spec.clusterIPs) && spec.clusterIPs.length > 0);
}

function entryAddresses(se: { spec?: unknown; status?: unknown }): { spec: string[]; status: { value: string }[] } {
  const spec = (se.spec ?? {}) as { addresses?: unknown };
  const status = (se.status ?? {}) as { addresses?: unknown };
  return {
    spec: Array.isArray(spec.addresses) ? spec.addresses.filter((a): a is string => typeof a === "string" && a !== "") : [],
    status: Array.isArray(status.addresses) ? status.addresses.filter((a): a is { value: string } => typeof a?.value === "string" && a.value !== "") : [],
  };
}

function entryHasVip(se: ServiceEntry): boolean {
  const a = entryAddresses(se);
  return a.spec.length > 0 || a.status.length > 0;
}

const label = (kind: string, o: { metadata: { namespace?: string; name?: string } }) => `${kind} ${o.metadata.namespace ?? "default"}/${o.metadata.name ?? ""}`;

/**
 * A copy of the snapshot whose Services and ServiceEntries without VIPs carry the live ones. The
 * objects are copied, never changed in place.
 */
export async function withLiveAddresses(snapshot: Snapshot, get: GetObject): Promise<{ snapshot: Snapshot; report: LiveAddressReport }> {
  const report: LiveAddressReport = { resolved: [], unresolved: [] };
  const services = [...snapshot.services];
  const serviceEntries = [...snapshot.serviceEntries];
  const jobs: (() => Promise<void>)[] = [];
  services.forEach((svc, i) => {
    if (serviceHasVip(svc) || !svc.metadata.name) return;
    jobs.push(async () => {
      const ns = svc.metadata.namespace ?? "default";
      const live = await get(`/api/v1/namespaces/${encodeURIComponent(ns)}/services/${encodeURIComponent(svc.metadata.name!)}`);
      const spec = (live?.spec ?? {}) as { clusterIP?: string; clusterIPs?: string[] };
      if (!live) report.unresolved.push(`${label("Service", svc)}: not in the cluster`);
      else if (!spec.clusterIP) report.unresolved.push(`${label("Service", svc)}: the live Service has no clusterIP`);
      else {
        const copy: Service = { ...svc, spec: { ...svc.spec, clusterIP: spec.clusterIP } };
        if (Array.isArray(spec.clusterIPs)) copy.spec!.clusterIPs = [...spec.clusterIPs];
        services[i] = copy;
        report.resolved.push(`${label("Service", svc)}: ${spec.clusterIP === "None" ? "headless" : (spec.clusterIPs ?? [spec.clusterIP]).join(", ")}`);
      }
    });
  });
  serviceEntries.forEach((se, i) => {
    if (entryHasVip(se) || !se.metadata.name) return;
    jobs.push(async () => {
      const ns = se.metadata.namespace ?? "default";
      // v1alpha3 is served by every Istio release that has ServiceEntry; the fields read are the same in all.
      const live = await get(`/apis/networking.istio.io/v1alpha3/namespaces/${encodeURIComponent(ns)}/serviceentries/${encodeURIComponent(se.metadata.name!)}`);
      const a = live ? entryAddresses(live) : undefined;
      if (!a) report.unresolved.push(`${label("ServiceEntry", se)}: not in the cluster`);
      else if (a.spec.length === 0 && a.status.length === 0) report.unresolved.push(`${label("ServiceEntry", se)}: the live ServiceEntry has no address (neither spec.addresses nor Istio's auto-allocated status.addresses)`);
      else {
        const copy = { ...se, spec: { ...se.spec } } as ServiceEntry & { status?: unknown };
        if (a.spec.length > 0) copy.spec!.addresses = a.spec;
        if (a.status.length > 0) copy.status = { ...((se as { status?: object }).status ?? {}), addresses: a.status };
        serviceEntries[i] = copy;
        report.resolved.push(`${label("ServiceEntry", se)}: ${[...a.spec, ...a.status.map((s) => s.value)].join(", ")}`);
      }
    });
  });
  await forEachLimited(jobs, LOOKUPS_IN_FLIGHT, (job) => job());
  report.resolved.sort();
  report.unresolved.sort();
  return { snapshot: { ...snapshot, services, serviceEntries }, report };
}
