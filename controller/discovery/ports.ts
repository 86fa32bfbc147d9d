// Which service ports are Meltemi's, and with which protocol.
//
// 1. Aeraki's conventions: a TCP port named `tcp-metaprotocol-<protocol>` or `tcp-metaprotocol-<protocol>-<anything>`
//    (MetaProtocol Proxy), and Aeraki's older dedicated-proxy names `tcp-dubbo[-<anything>]` and
//    `tcp-thrift[-<anything>]` (Aeraki reads the second dash-separated part of a port name as the protocol:
//    aeraki-mesh/aeraki internal/model/protocol/instance.go GetLayer7ProtocolFromPortName). Only with the
//    `tcp` prefix: Istio must see the port as plain TCP for the listener Meltemi patches.
// 2. For ports that cannot be renamed: the label `meltemi.dev/protocol: <protocol>` on the Service or
//    ServiceEntry, for all its TCP ports or only those listed in the annotation `meltemi.dev/ports: "20880,9090"`.
//    (Not `appProtocol`: Istio reads appProtocol instead of the port name to pick its own protocol, and
//    an unknown value such as `meltemi.dev/dubbo` turns on protocol sniffing, which changes the
//    listeners Meltemi patches; istio/istio pkg/config/kube/conversion.go ConvertProtocol.)

export const PROTOCOL_LABEL = "meltemi.dev/protocol";
export const PORTS_ANNOTATION = "meltemi.dev/ports";

const PORT_NAME = /^tcp-metaprotocol-([a-z0-9]+)(?:-|$)/;
/** Aeraki's dedicated Dubbo / Thrift proxies' port names; the protocol is Meltemi's built-in of that name. */
const AERAKI_DEDICATED_PORT_NAME = /^tcp-(dubbo|thrift)(?:-|$)/;

export function protocolFromPortName(name: string | undefined): string | undefined {
  if (!name) return undefined;
  return PORT_NAME.exec(name)?.[1] ?? AERAKI_DEDICATED_PORT_NAME.exec(name)?.[1];
}

/** Istio's protocol prefix of a port name (the part before the first '-'), lower-cased. */
export function istioProtocolPrefix(name: string | undefined): string {
  return (name ?? "").split("-")[0]!.toLowerCase();
}

const NON_TCP_PREFIXES = new Set(["http", "http2", "https", "grpc", "grpc-web", "tls", "udp", "mongo", "mysql", "redis"]);

/** Whether Istio sees the port as plain TCP (a tcp_proxy filter chain Meltemi can patch). */
export function isIstioTcpPort(name: string | undefined): boolean {
  return istioProtocolPrefix(name) === "tcp";
}

export function isIstioNonTcpPort(name: string | undefined): boolean {
  return NON_TCP_PREFIXES.has(istioProtocolPrefix(name));
}

/** The port numbers listed in the annotation, or undefined for "all", or an error message. */
export function parsePortsAnnotation(value: string | undefined): number[] | undefined | string {
  if (value === undefined || value.trim() === "") return undefined;
  const ports: number[] = [];
  for (const part of value.split(",")) {
    const n = Number(part.trim());
    if (!Number.isInteger(n) || n < 1 || n > 65535) return `"${part.trim()}" is not a port number`;
    ports.push(n);
  }
  return ports;
}
