// The client side of one routed service port, in one callers' namespace: an EnvoyFilter on the callers'
// outbound listener of that service, `<vip>_<port>` (Istio names the outbound listener of a TCP service
// port after its VIP; Aeraki relies on the same, aeraki internal/envoyfilter/network_filter.go). It
// 1. defines the Meltemi filter as an extension config (ECDS; istio-agent fetches the oci:// module),
// 2. inserts it before tcp_proxy on that listener only,
// 3. sets up the routing mode: perConnection MERGEs early data into tcp_proxy; perRequest REPLACEs
//    tcp_proxy with thrift_proxy / dubbo_proxy routing on the key the filter writes (envoy/routing_key.ts).
// A WasmPlugin cannot do this: its CLIENT match selects ports only, so it would also land on every other
// service sharing the port number (every Dubbo service on 20880).
import type { MeltemiPort, MeltemiService } from "../discovery/services";
import type { KubeObject, ObjectRef } from "../k8s/objects";
import { dubboProxyFilter } from "./envoy/dubbo_proxy";
import { TCP_PROXY, TYPE_WASM_NETWORK } from "./envoy/names";
import { tcpProxyEarlyDataPatch } from "./envoy/tcp_proxy";
import { thriftProxyFilter, type ThriftMirror } from "./envoy/thrift_proxy";
import { wasmFilterConfig } from "./envoy/wasm_filter";
import type { FilterConfig } from "./filter_config";
import type { FailStrategy, TranslateOptions } from "./options";
import { generatedMeta, objectName, shortHost } from "./ownership";

/** Istio's failStrategy as Envoy's PluginConfig.failure_policy (what istiod writes for a WasmPlugin). */
const ENVOY_FAILURE_POLICY: Record<FailStrategy, "FAIL_OPEN" | "FAIL_CLOSED" | "FAIL_RELOAD"> = {
  FAIL_OPEN: "FAIL_OPEN",
  FAIL_CLOSE: "FAIL_CLOSED",
  FAIL_RELOAD: "FAIL_RELOAD",
};
import { DUBBO_PROXY, THRIFT_PROXY, nativeRouterOf } from "./codecs";
import type { ProtocolBinding, RoutingMode } from "./protocols";

export const NETWORKING_API = "networking.istio.io/v1alpha3";

export interface ClientEnvoyFilterInput {
  service: MeltemiService;
  port: MeltemiPort;
  namespace: string;
  selector?: Record<string, string>;
  owner: ObjectRef;
  config: FilterConfig;
  binding: ProtocolBinding;
  routingMode: RoutingMode;
  /** Every cluster the filter may pick (perRequest route table). */
  clusters: string[];
  /** Thrift perRequest only: mirrors of the requests forwarded to a cluster, by that cluster. */
  mirrors?: ReadonlyMap<string, ThriftMirror>;
  failStrategy: FailStrategy;
  options: TranslateOptions;
}

function routingPatch(input: ClientEnvoyFilterInput, statPrefix: string): { operation: "MERGE" | "REPLACE"; value: Record<string, unknown> } {
  if (input.routingMode === "perConnection") {
    return { operation: "MERGE", value: tcpProxyEarlyDataPatch({ earlyDataBytes: input.options.earlyDataBytes }) };
  }
  const routeConfigName = statPrefix;
  const router = nativeRouterOf(input.binding.codec);
  if (router === THRIFT_PROXY) {
    const t = input.binding.thrift;
    return {
      operation: "REPLACE",
      value: thriftProxyFilter({ statPrefix, routeConfigName, clusters: input.clusters, ...(input.mirrors?.size ? { mirrors: input.mirrors } : {}), ...(t?.transport ? { transport: t.transport } : {}), ...(t?.protocol ? { protocol: t.protocol } : {}) }),
    };
  }
  if (router === DUBBO_PROXY) return { operation: "REPLACE", value: dubboProxyFilter({ statPrefix, routeConfigName, clusters: input.clusters }) };
  throw new Error(`no native router for codec ${input.binding.codec}`);
}

export function clientEnvoyFilter(input: ClientEnvoyFilterInput): KubeObject {
  const { service, port, namespace, options } = input;
  const name = objectName("meltemi-client", shortHost(service.host, options.clusterDomain), port.number);
  const metadata = generatedMeta(name, namespace, input.owner, "client");
  // Istio's advice for ECDS names: qualify them with the namespace to avoid collisions.
  const extensionName = `${namespace}/${name}`;
  const statPrefix = `outbound|${port.number}||${service.host}`;
  const listenerPatches = (listener: string): object[] => {
    const match = { context: "SIDECAR_OUTBOUND", listener: { name: listener, filterChain: { filter: { name: TCP_PROXY } } } };
    return [
      {
        applyTo: "NETWORK_FILTER",
        match,
        patch: {
          operation: "INSERT_BEFORE",
          value: { name: extensionName, config_discovery: { config_source: { ads: {}, initial_fetch_timeout: "0s" }, type_urls: [TYPE_WASM_NETWORK] } },
        },
      },
      { applyTo: "NETWORK_FILTER", match, patch: routingPatch(input, statPrefix) },
    ];
  };
  const configPatches: object[] = [
    {
      applyTo: "EXTENSION_CONFIG",
      patch: {
        operation: "ADD",
        value: {
          name: extensionName,
          typed_config: wasmFilterConfig({
            name: extensionName,
            code: { remote: { uri: options.wasm.url, sha256: options.wasm.sha256 } },
            configuration: input.config,
            failurePolicy: ENVOY_FAILURE_POLICY[input.failStrategy],
          }),
        },
      },
    },
    ...[...service.addresses].sort().flatMap((vip) => listenerPatches(`${vip}_${port.number}`)),
  ];
  const spec: Record<string, unknown> = {};
  if (input.selector) spec.workloadSelector = { labels: input.selector };
  spec.configPatches = configPatches;
  return { apiVersion: NETWORKING_API, kind: "EnvoyFilter", metadata, spec };
}
