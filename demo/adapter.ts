// The demo's adapter from `meltemi render` output to local Envoy bootstraps: what istiod and
// istio-agent do in a cluster, reduced to the objects Meltemi generates, for sidecars on one machine.
//
// - Client side (the caller's sidecar): for the outbound listener `<vip>_<port>` of a service, start
//   from what Istio generates for a TCP service port (tcp_proxy to `outbound|<port>||<host>`), then
//   apply the EnvoyFilter's configPatches for that listener in order, as Istio does: INSERT_BEFORE,
//   MERGE, REPLACE on the tcp_proxy network filter. The filter's ECDS reference is resolved from the
//   EnvoyFilter's EXTENSION_CONFIG patch, whose remote (oci://) module becomes the local build (what
//   istio-agent does after downloading it). Clusters `outbound|<port>|<subset>|<host>` come from the
//   DestinationRule's subsets and the workloads whose labels they select, over mTLS.
// - Server side (each service pod's sidecar): for each WasmPlugin whose selector matches the pod's
//   labels, the inbound listener on the matched port gets the Meltemi filter with the plugin's
//   `pluginConfig` (built with the controller's own wasmNetworkFilter), then tcp_proxy to the app;
//   the listener requires the callers' client certificates (mTLS).
// Nothing here is hand-written Envoy configuration for Meltemi: every Meltemi filter, routing table
// and routing-mode setting is taken from render's output.
import type { KubeObject } from "../controller/k8s/objects";
import { meltemiStatsConfig, TCP_PROXY, TYPE_TCP_PROXY, wasmNetworkFilter } from "../controller/translate/envoy/index";
import { downstreamMtls, type IssuedCert, upstreamMtls } from "../test/envoy/tls";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Endpoint { labels: Record<string, string>; port: number }

export function istioClusterName(port: number, subset: string, host: string): string {
  return `outbound|${port}|${subset}|${host}`;
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** An upstream mTLS cluster to loopback endpoints; the server must present `serverSpiffe`. */
export function mtlsCluster(name: string, ports: number[], client: IssuedCert, caCert: string, serverSpiffe: string): Obj {
  return {
    name,
    type: "STATIC",
    connect_timeout: "2s",
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: ports.map((port) => ({ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: port } } } })) }],
    },
    transport_socket: upstreamMtls(client, caCert, serverSpiffe),
  };
}

function plainCluster(name: string, port: number): Obj {
  return {
    name,
    type: "STATIC",
    connect_timeout: "2s",
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: port } } } }] }] },
  };
}

function tcpProxy(statPrefix: string, cluster: string): Obj {
  return { name: TCP_PROXY, typed_config: { "@type": TYPE_TCP_PROXY, stat_prefix: statPrefix, cluster } };
}

/** Deep merge with Envoy/Istio MERGE semantics for what the patches use (objects merge, the rest replaces). */
function merge(into: Obj, patch: Obj): Obj {
  const out: Obj = { ...into };
  for (const [k, v] of Object.entries(patch)) {
    out[k] = v !== null && typeof v === "object" && !Array.isArray(v) && typeof out[k] === "object" && out[k] !== null ? merge(out[k], v) : v;
  }
  return out;
}

/** A Wasm filter config whose module is the local file (istio-agent hands Envoy a downloaded module the same way). */
function withLocalModule(typedConfig: Obj, wasmPath: string): Obj {
  const config = { ...typedConfig.config, vm_config: { ...typedConfig.config.vm_config, code: { local: { filename: wasmPath } } } };
  return { ...typedConfig, config };
}

function kindOf(objects: KubeObject[], kind: string): Obj[] {
  return objects.filter((o) => o.kind === kind) as Obj[];
}

export interface ClientSide {
  listenerName: string;
  host: string;
  port: number;
  filters: Obj[];
  clusters: Obj[];
}

/**
 * The caller's outbound listener for `service` (a Kubernetes Service from the demo's config) with every
 * EnvoyFilter patch render generated for it, and the subset clusters it may route to.
 */
export function clientSide(opts: {
  rendered: KubeObject[];
  config: KubeObject[];
  service: string;
  namespace: string;
  clusterDomain?: string;
  wasmPath: string;
  endpoints: Endpoint[];
  caller: IssuedCert;
  caCert: string;
  serverSpiffe: string;
}): ClientSide {
  const svc = kindOf(opts.config, "Service").find((s) => s.metadata.name === opts.service && s.metadata.namespace === opts.namespace);
  if (!svc) throw new Error(`no Service ${opts.namespace}/${opts.service} in the demo config`);
  const host = `${opts.service}.${opts.namespace}.svc.${opts.clusterDomain ?? "cluster.local"}`;
  const port: number = svc.spec.ports[0].port;
  const listenerName = `${svc.spec.clusterIP}_${port}`;

  let filters: Obj[] = [tcpProxy(istioClusterName(port, "", host), istioClusterName(port, "", host))];
  const extensions = new Map<string, Obj>();
  let patched = 0;
  for (const ef of kindOf(opts.rendered, "EnvoyFilter")) {
    for (const p of ef.spec.configPatches as Obj[]) {
      if (p.applyTo === "EXTENSION_CONFIG" && p.patch.operation === "ADD") { extensions.set(p.patch.value.name, p.patch.value.typed_config); continue; }
      if (p.applyTo !== "NETWORK_FILTER" || p.match?.listener?.name !== listenerName) continue;
      const target = p.match.listener.filterChain?.filter?.name;
      const i = filters.findIndex((f) => f.name === target);
      if (i < 0) throw new Error(`${ef.metadata.name}: no filter ${target} on listener ${listenerName}`);
      const value = p.patch.value as Obj;
      switch (p.patch.operation) {
        case "INSERT_BEFORE": {
          let filter = value;
          if (value.config_discovery) {
            const typed = extensions.get(value.name);
            if (!typed) throw new Error(`${ef.metadata.name}: ECDS config ${value.name} is not defined by an EXTENSION_CONFIG patch`);
            filter = { name: value.name, typed_config: withLocalModule(typed, opts.wasmPath) };
          }
          filters = [...filters.slice(0, i), filter, ...filters.slice(i)];
          break;
        }
        case "MERGE": filters[i] = merge(filters[i], value); break;
        case "REPLACE": filters[i] = value; break;
        default: throw new Error(`${ef.metadata.name}: patch operation ${p.patch.operation} is not supported by the demo adapter`);
      }
      patched++;
    }
  }
  if (patched === 0) throw new Error(`render generated no EnvoyFilter patch for listener ${listenerName} (service ${opts.service})`);

  const dr = kindOf(opts.config, "DestinationRule").find((d) => d.metadata.namespace === opts.namespace && [opts.service, host].includes(d.spec.host));
  const subsets: { name: string; labels: Record<string, string> }[] = [{ name: "", labels: {} }, ...(dr?.spec.subsets ?? [])];
  const clusters = subsets.map((s) => {
    const ports = opts.endpoints.filter((e) => selects({ ...svc.spec.selector, ...s.labels }, e.labels)).map((e) => e.port);
    return mtlsCluster(istioClusterName(port, s.name, host), ports, opts.caller, opts.caCert, opts.serverSpiffe);
  });
  return { listenerName, host, port, filters, clusters };
}

export interface ServerSide {
  listenerName: string;
  filterChain: Obj;
  clusters: Obj[];
}

/** A service pod's inbound listener on `targetPort`: mTLS, the WasmPlugins that select the pod, tcp_proxy to the app. */
export function serverSide(opts: {
  rendered: KubeObject[];
  labels: Record<string, string>;
  targetPort: number;
  appPort: number;
  wasmPath: string;
  server: IssuedCert;
  caCert: string;
}): ServerSide {
  const plugins = kindOf(opts.rendered, "WasmPlugin").filter((w) =>
    selects(w.spec.selector?.matchLabels ?? {}, opts.labels) &&
    (w.spec.match ?? []).some((m: Obj) => m.mode !== "CLIENT" && (m.ports ?? []).some((p: Obj) => p.number === opts.targetPort)));
  if (plugins.length === 0) throw new Error(`render generated no WasmPlugin for a pod labelled ${JSON.stringify(opts.labels)} on port ${opts.targetPort}`);
  const inbound = `inbound|${opts.targetPort}||`;
  const filters = [
    ...plugins.map((w) => wasmNetworkFilter({ name: `${w.metadata.namespace}.${w.metadata.name}`, rootId: w.spec.pluginName, code: { local: opts.wasmPath }, configuration: w.spec.pluginConfig, failOpen: w.spec.failStrategy === "FAIL_OPEN" })),
    tcpProxy(inbound, inbound),
  ];
  const filterChain = {
    filters,
    transport_socket: downstreamMtls(opts.server, opts.caCert),
  };
  return { listenerName: `virtualInbound_${opts.targetPort}`, filterChain, clusters: [plainCluster(inbound, opts.appPort)] };
}

/**
 * A sidecar's bootstrap: an admin interface, the given listeners (127.0.0.1:0 each) and clusters. As in
 * Istio: listeners carry their traffic direction (the filter's `reporter` label comes from it), and the
 * stats tag rules that turn Meltemi's metric names into labels (Istio's extraStatTags form).
 */
export function bootstrap(node: string, direction: "INBOUND" | "OUTBOUND", listeners: { name: string; filterChain: Obj }[], clusters: Obj[]): Obj {
  return {
    node: { id: node, cluster: node },
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } },
    stats_config: meltemiStatsConfig(),
    static_resources: {
      listeners: listeners.map((l) => ({
        name: l.name,
        address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
        traffic_direction: direction,
        filter_chains: [l.filterChain],
      })),
      clusters,
    },
  };
}
