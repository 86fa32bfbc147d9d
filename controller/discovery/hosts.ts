// Service host names: short names resolve in the referring object's namespace (Istio's rule).

export function resolveHost(host: string, namespace: string, clusterDomain: string): string {
  return host.includes(".") ? host : `${host}.${namespace}.svc.${clusterDomain}`;
}

/** Istio's cluster name for a service port and subset: `outbound|<port>|<subset>|<fqdn>`. */
export function outboundCluster(port: number, subset: string | undefined, host: string): string {
  return `outbound|${port}|${subset ?? ""}|${host}`;
}
