// The Meltemi services of a snapshot: Kubernetes Services and Istio ServiceEntries with Meltemi ports
// (discovery/ports.ts), with what the generated objects need: the FQDN, the workloads behind them
// (selector), their VIPs (client-side listeners are named `<vip>_<port>`) and the ports the workloads
// bind (server side).
import type { Diagnostics } from "../translate/diagnostics";
import { refOf, type KubeObject, type ObjectRef, type Service, type ServiceEntry } from "../k8s/objects";
import { isIstioNonTcpPort, isIstioTcpPort, parsePortsAnnotation, PORTS_ANNOTATION, PROTOCOL_LABEL, protocolFromPortName } from "./ports";

export interface MeltemiPort {
  /** The service port (what callers dial; outbound listener and cluster names). */
  number: number;
  name?: string;
  /** The port the workload binds (inbound); undefined when only known by name. */
  targetPort?: number;
  targetPortName?: string;
  protocol: string;
  discoveredBy: "portName" | "label";
}

export interface MeltemiService {
  host: string;
  namespace: string;
  object: ObjectRef;
  /** Workload labels of the pods behind the service; undefined: none (server side impossible). */
  selector?: Record<string, string>;
  /** VIPs the callers dial. */
  addresses: string[];
  headless: boolean;
  ports: MeltemiPort[];
}

/** The object entries of what should be a list of objects (user input: anything may be there). */
function objectsIn<T>(list: T[] | undefined): T[] {
  return Array.isArray(list) ? list.filter((x): x is T => x !== null && typeof x === "object") : [];
}

function nonEmpty(labels: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!labels || typeof labels !== "object" || Array.isArray(labels)) return undefined;
  const entries = Object.entries(labels).filter(([, v]) => typeof v === "string");
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

interface RawPort {
  number: number;
  name?: string;
  targetPort?: number | string;
  protocol?: string;
}

function meltemiPorts(obj: KubeObject, raw: RawPort[], ref: ObjectRef, diags: Diagnostics): MeltemiPort[] {
  const labelProtocol = obj.metadata.labels?.[PROTOCOL_LABEL];
  if (labelProtocol !== undefined && typeof labelProtocol !== "string") return [];
  const listed = parsePortsAnnotation(obj.metadata.annotations?.[PORTS_ANNOTATION]);
  if (typeof listed === "string") diags.error(ref, "InvalidPortsAnnotation", `annotation ${PORTS_ANNOTATION}: ${listed}; the label ${PROTOCOL_LABEL} is ignored`, `metadata.annotations`);
  const out: MeltemiPort[] = [];
  raw.forEach((p, i) => {
    if (!Number.isInteger(p.number) || p.number < 1 || p.number > 65535) return;
    if (p.protocol && p.protocol.toUpperCase() === "UDP") return;
    let protocol = protocolFromPortName(p.name);
    let discoveredBy: MeltemiPort["discoveredBy"] = "portName";
    if (!protocol && labelProtocol && typeof listed !== "string" && (listed === undefined || listed.includes(p.number))) {
      if (isIstioNonTcpPort(p.name)) {
        if (listed !== undefined) diags.warn(ref, "PortNotTcp", `port ${p.number} (${p.name}) is not TCP for Istio; Meltemi leaves it alone`, `spec.ports[${i}]`);
        return;
      }
      protocol = labelProtocol;
      discoveredBy = "label";
      if (!isIstioTcpPort(p.name)) {
        diags.warn(ref, "PortNameNotTcp", `port ${p.number} is named "${p.name ?? ""}": Istio sniffs its protocol instead of treating it as TCP, so its outbound listener is shared by every service on the port and callers' routing cannot be scoped to this service; name it "tcp" or "tcp-<anything>"`, `spec.ports[${i}]`);
      }
    }
    if (!protocol) return;
    const port: MeltemiPort = { number: p.number, protocol, discoveredBy };
    if (p.name !== undefined) port.name = p.name;
    const target = p.targetPort ?? p.number;
    if (typeof target === "number") port.targetPort = target;
    else if (/^[0-9]+$/.test(target)) port.targetPort = Number(target);
    else port.targetPortName = target;
    out.push(port);
  });
  return out;
}

function fromService(svc: Service, clusterDomain: string, diags: Diagnostics): MeltemiService[] {
  const ref = refOf(svc);
  const ns = svc.metadata.namespace ?? "default";
  const spec = svc.spec && typeof svc.spec === "object" ? svc.spec : {};
  const raw: RawPort[] = objectsIn(spec.ports).map((p) => ({ number: p.port, name: p.name, targetPort: p.targetPort, protocol: p.protocol }));
  const ports = meltemiPorts(svc, raw, ref, diags);
  if (ports.length === 0) return [];
  const ips = (spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : []).filter((ip) => ip !== "None" && ip !== "");
  const service: MeltemiService = {
    host: `${svc.metadata.name}.${ns}.svc.${clusterDomain}`,
    namespace: ns,
    object: ref,
    addresses: ips,
    headless: spec.clusterIP === "None",
    ports,
  };
  const selector = nonEmpty(spec.selector);
  if (selector) service.selector = selector;
  return [service];
}

function fromServiceEntry(se: ServiceEntry, diags: Diagnostics): MeltemiService[] {
  const ref = refOf(se);
  const ns = se.metadata.namespace ?? "default";
  const spec = se.spec && typeof se.spec === "object" ? se.spec : {};
  const raw: RawPort[] = objectsIn(spec.ports).map((p) => ({ number: p.number, name: p.name, targetPort: p.targetPort, protocol: p.protocol }));
  const ports = meltemiPorts(se, raw, ref, diags);
  if (ports.length === 0) return [];
  // Istio allocates VIPs for ServiceEntries without addresses into status.addresses (DNS auto-allocation).
  const statusAddresses = objectsIn((se.status as { addresses?: { value?: string }[] } | undefined)?.addresses).map((a) => a.value ?? "");
  const addresses: string[] = [];
  for (const a of [...(Array.isArray(spec.addresses) ? spec.addresses : []), ...statusAddresses]) {
    if (typeof a !== "string" || !a) continue;
    if (a.includes("/")) {
      diags.warn(ref, "CidrAddress", `address ${a} is a CIDR range; callers' routing needs single VIPs and ignores it`, "spec.addresses");
      continue;
    }
    if (!addresses.includes(a)) addresses.push(a);
  }
  const selector = nonEmpty(spec.workloadSelector?.labels);
  return (Array.isArray(spec.hosts) ? spec.hosts : []).filter((h): h is string => typeof h === "string" && h !== "").map((host) => {
    const service: MeltemiService = { host, namespace: ns, object: ref, addresses, headless: false, ports: ports.map((p) => ({ ...p })) };
    if (selector) service.selector = selector;
    return service;
  });
}

/** Every Meltemi service, sorted by host then namespace (deterministic output). */
export function discoverServices(services: Service[], serviceEntries: ServiceEntry[], clusterDomain: string, diags: Diagnostics): MeltemiService[] {
  const out: MeltemiService[] = [];
  for (const svc of services) out.push(...fromService(svc, clusterDomain, diags));
  for (const se of serviceEntries) out.push(...fromServiceEntry(se, diags));
  return out.sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : a.namespace < b.namespace ? -1 : a.namespace > b.namespace ? 1 : 0));
}
