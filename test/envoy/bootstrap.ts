// Envoy bootstraps for tests: listeners on 127.0.0.1:0 (usually one, "meltemi", whose filter chain is the
// Meltemi Wasm network filter followed by tcp_proxy or a native router) and static loopback clusters.
import path from "node:path";
import { meltemiStatsConfig } from "../../controller/translate/envoy/stats_tags";
import { repoRoot } from "./envoy";

export interface WasmFilterOptions {
  /** The module; default build/meltemi.wasm. */
  wasmPath?: string;
  /** Plugin configuration handed to on_configure: an object (sent as JSON) or raw text. */
  pluginConfig: object | string;
  pluginName?: string;
  vmId?: string;
}

export function wasmNetworkFilter(opts: WasmFilterOptions): object {
  const configuration = typeof opts.pluginConfig === "string" ? opts.pluginConfig : JSON.stringify(opts.pluginConfig);
  return {
    name: "envoy.filters.network.wasm",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm",
      config: {
        name: opts.pluginName ?? "meltemi",
        root_id: "meltemi",
        configuration: { "@type": "type.googleapis.com/google.protobuf.StringValue", value: configuration },
        vm_config: {
          vm_id: opts.vmId ?? "meltemi",
          runtime: "envoy.wasm.runtime.v8",
          code: { local: { filename: opts.wasmPath ?? path.join(repoRoot, "build/meltemi.wasm") } },
        },
      },
    },
  };
}

export function tcpProxy(cluster: string): object {
  return {
    name: "envoy.filters.network.tcp_proxy",
    typed_config: {
      "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
      stat_prefix: "meltemi_test",
      cluster,
    },
  };
}

/** A cluster of one loopback endpoint; with `transportSocket`, Envoy speaks e.g. TLS to it (tls.ts). */
export function staticCluster(name: string, port: number, transportSocket?: object): object {
  return {
    name,
    type: "STATIC",
    connect_timeout: "2s",
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: port } } } }] }],
    },
    ...(transportSocket ? { transport_socket: transportSocket } : {}),
  };
}

export interface ListenerSpec {
  name: string;
  filters: object[];
  /** e.g. TLS termination (tls.ts downstreamMtls); plain TCP without. */
  transportSocket?: object;
}

/** A listener on 127.0.0.1:0 (Envoy.listenerPort reads the port back by name). */
export function listener(spec: ListenerSpec): object {
  return {
    name: spec.name,
    address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
    filter_chains: [{ filters: spec.filters, ...(spec.transportSocket ? { transport_socket: spec.transportSocket } : {}) }],
  };
}

/** Admin on 127.0.0.1:0, static `listeners` and `clusters`. */
export function staticBootstrap(listeners: ListenerSpec[], clusters: object[]): object {
  return {
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } },
    // Labels of Meltemi's metrics, as the controller's translation writes them.
    stats_config: meltemiStatsConfig(),
    static_resources: { listeners: listeners.map(listener), clusters },
  };
}

/** Admin and one listener "meltemi" on 127.0.0.1:0 whose filter chain is `filters`, and `clusters`. */
export function listenerBootstrap(filters: object[], clusters: object[]): object {
  return staticBootstrap([{ name: "meltemi", filters }], clusters);
}

/** listener "meltemi" -> [filters...] ; cluster "upstream" -> 127.0.0.1:upstreamPort. */
export function passThroughBootstrap(filters: object[], upstreamPort: number): object {
  return listenerBootstrap(filters, [staticCluster("upstream", upstreamPort)]);
}

/**
 * A bootstrap whose listeners come from a file (LDS over the filesystem), so a test can change the
 * filter configuration while Envoy runs: write the file again with writeListenerFile.
 */
export function fileLdsBootstrap(ldsPath: string, upstreamPort: number): object {
  return {
    node: { id: "meltemi-test", cluster: "meltemi-test" },
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } },
    stats_config: meltemiStatsConfig(),
    dynamic_resources: { lds_config: { path_config_source: { path: ldsPath }, resource_api_version: "V3" } },
    static_resources: { clusters: [staticCluster("upstream", upstreamPort)] },
  };
}

/** The LDS file content for one listener "meltemi" with `filters`. */
export function listenerFile(filters: object[], version: string): object {
  return {
    version_info: version,
    resources: [{ "@type": "type.googleapis.com/envoy.config.listener.v3.Listener", ...listener({ name: "meltemi", filters }) }],
  };
}
