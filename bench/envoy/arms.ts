// The four arms of docs/performance.md for one protocol (and arm 5: arm 4 with tracing; arm 6, Dubbo
// only: arm 3 routing on an attachment; arms 7 and 8: the floor module in place of Meltemi; arm 9: the
// floor in front of arm 4's native proxy; arm 10: arm 7 with telemetry's host calls), as Envoy listeners, and ONE bootstrap holding all of them (both
// protocols: 19 listeners) so that every arm runs in the same Envoy process, with the same workers and
// the same upstreams, and the arms can be interleaved without restarting anything.
//
// Every filter comes from the controller's translation (controller/translate/envoy): tcp_proxy with
// the early data perConnection mode needs (the same tcp_proxy in arms 1 and 2), the Wasm filter, and
// thrift_proxy / dubbo_proxy with the route table Meltemi's routing key needs (arm 4). The one thing
// the benchmark writes itself is arm 3's route table (and arm 6's): the controller never generates a
// native route table without Meltemi in front (routing is Meltemi's job), so nativeRouteTable below
// renders the SAME routes as the Meltemi configuration (method -> cluster, first match) in the native
// router's own terms, and replaces the routing-key table in the translated filter.
import path from "node:path";
import { repoRoot } from "../../test/envoy/envoy";
import { staticCluster } from "../../test/envoy/bootstrap";
import { DEFAULT_OPTIONS } from "../../controller/translate/options";
import { tcpProxyFilter } from "../../controller/translate/envoy/tcp_proxy";
import { thriftProxyFilter } from "../../controller/translate/envoy/thrift_proxy";
import { dubboProxyFilter } from "../../controller/translate/envoy/dubbo_proxy";
import { wasmNetworkFilter } from "../../controller/translate/envoy/wasm_filter";
import { DUBBO_ROUTE_ATTACHMENT, type ProtocolName, answerBytes } from "../load/wire";

export const ARMS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] as const;
export type Arm = (typeof ARMS)[number];

/** The arms a protocol runs, in the order of a round: arm 6 is Dubbo only (see ARM_NAMES). */
export function armsOf(p: ProtocolName): readonly Arm[] {
  return p === "dubbo" ? ARMS : ARMS.filter((a) => a !== 6);
}

/** Arm 9's load carries Meltemi's routing key already (bench/load/wire.ts benchWire's `routedTo`). */
export const ROUTED_LOAD_ARMS: readonly Arm[] = [9];

export const ARM_NAMES: Record<Arm, string> = {
  1: "tcp_proxy",
  2: "Meltemi + tcp_proxy (perConnection)",
  3: "native proxy",
  4: "Meltemi + native proxy (perRequest)",
  // Arm 4 with tracing on, every request a span exported to the benchmark's collector: the cost of
  // tracing in Envoy is arm 5 - arm 4 (docs/filter.md#tracing).
  5: "arm 4 + tracing, 100% sampled",
  // A diagnostic, Dubbo only: arm 3 with every route also matching an attachment the load's requests
  // carry, so that dubbo_proxy's router must read the attachments (it parses them lazily, after every
  // argument, only for a route with a header matcher: router/route_matcher.cc, message_impl.cc). Arm 4's
  // routes match the routing key attachment; arm 6 - arm 3 is what that costs the native router alone,
  // without Meltemi. thrift_proxy has no attachments (its header matchers read THeader headers, which
  // framed binary has none of): no Thrift arm 6.
  6: "native proxy routing on an attachment",
  // The floor (bench/floor/passthrough.ts: every read and write read once, nothing else) in front of
  // arm 1's tcp_proxy and of arm 3's native proxy: what any Wasm network filter costs in this Envoy.
  // arm 1 / arm 7 and arm 3 / arm 8 are the highest ratios a Wasm filter can reach in the bars.
  7: "floor module + tcp_proxy",
  8: "floor module + native proxy",
  // The floor in front of arm 4's native proxy (the route table of Meltemi's routing key), with a load
  // whose requests carry that key already (to arm 3's v1): the least Meltemi's perRequest design can
  // cost, a Wasm filter that looks at every read and a native router that routes on a key in the
  // frame, before Meltemi decodes, decides or writes anything. arm 4 - arm 9 is Meltemi's own work.
  9: "floor module + native proxy routing on Meltemi's key",
  // Arm 7 with the floor module also making the host calls of Meltemi's per-request telemetry (a clock
  // read per callback, a counter increment and a histogram record per answer: passthrough.ts): arm 1 /
  // arm 10 is the ceiling of the perConnection bar for a filter that times and counts every request in
  // Envoy's stats as it goes, and arm 2 - arm 10 is Meltemi's work beyond those calls.
  10: "floor module with per-request telemetry calls + tcp_proxy",
};

/** Arms that measure saturation only: the latency bars compare arms 1 and 2, the floor has none. */
export const FLOOR_ARMS: readonly Arm[] = [7, 8, 9, 10];

/** The cluster of the benchmark's span collector (arms-run.ts startCollector), for arm 5. */
export const COLLECTOR_CLUSTER = "bench-zipkin";

export function nativeName(p: ProtocolName): string {
  return p === "thrift" ? "thrift_proxy" : "dubbo_proxy";
}

/** Istio-style cluster names (they hold dots and '|', as in a mesh). */
export function clusters(p: ProtocolName): { v1: string; v2: string } {
  const port = p === "thrift" ? 9090 : 20880;
  return { v1: `outbound|${port}|v1|greeter.bench.svc.cluster.local`, v2: `outbound|${port}|v2|greeter.bench.svc.cluster.local` };
}

/**
 * The benchmark's routes, the same for Meltemi and for arm 3's native table: `echo` goes to v2,
 * everything else to v1. The load calls `hello`, so each request tests the first route and takes the
 * second, in both.
 */
export function meltemiConfig(p: ProtocolName, mode: "perConnection" | "perRequest"): object {
  const { v1, v2 } = clusters(p);
  return {
    version: 1,
    name: `greeter-${p}-${mode}`,
    protocol: p,
    routingMode: mode,
    routes: [
      { name: "echo-to-v2", match: { method: { exact: "echo" } }, destinations: [{ cluster: v2 }] },
      { name: "rest-to-v1", destinations: [{ cluster: v1 }] },
    ],
  };
}

/**
 * The native router's own route table with the routes of meltemiConfig (arm 3). With `attachment`
 * (Dubbo, arm 6), every route also requires that attachment to hold that value, an exact header match:
 * the load's requests carry it, so they take the same routes as in arm 3.
 */
export function nativeRouteTable(p: ProtocolName, name: string, attachment?: { name: string; value: string }): Record<string, unknown> {
  const { v1, v2 } = clusters(p);
  if (p === "thrift") {
    // thrift_proxy route.proto: an empty method_name matches any method.
    return { name, routes: [{ match: { method_name: "echo" }, route: { cluster: v2 } }, { match: { method_name: "" }, route: { cluster: v1 } }] };
  }
  // dubbo_proxy route.proto: RouteMatch.headers are config.route.v3.HeaderMatchers over the attachments.
  const headers = attachment ? { headers: [{ name: attachment.name, string_match: { exact: attachment.value } }] } : {};
  return {
    name,
    route_config: [{
      name,
      interface: "*",
      routes: [
        { match: { method: { name: { exact: "echo" } }, ...headers }, route: { cluster: v2 } },
        { match: { method: { name: { safe_regex: { regex: ".*" } } }, ...headers }, route: { cluster: v1 } },
      ],
    }],
  };
}

export function listenerName(p: ProtocolName, arm: Arm): string {
  return `${p}-arm${arm}`;
}

function nativeFilter(p: ProtocolName, statPrefix: string): Record<string, unknown> {
  const { v1, v2 } = clusters(p);
  const opts = { statPrefix, routeConfigName: statPrefix, clusters: [v1, v2] };
  return p === "thrift" ? thriftProxyFilter(opts) : dubboProxyFilter(opts);
}

/** The network filters of one arm. */
export function armFilters(p: ProtocolName, arm: Arm, wasmPath: string, floorPath: string): object[] {
  const { v1 } = clusters(p);
  const statPrefix = listenerName(p, arm);
  const wasm = (mode: "perConnection" | "perRequest", tracing = false) => wasmNetworkFilter({
    name: `bench-${p}-${mode}${tracing ? "-tracing" : ""}`,
    // One VM per worker for every Meltemi listener, as Istio's WasmPlugins (no vm_id) share one.
    vmId: "meltemi",
    code: { local: wasmPath },
    configuration: tracing
      ? { ...meltemiConfig(p, mode), name: `greeter-${p}-${mode}-tracing`, tracing: { collectorCluster: COLLECTOR_CLUSTER, samplingPercentage: 100 } }
      : meltemiConfig(p, mode),
  });
  const tcp = () => tcpProxyFilter({ statPrefix, cluster: v1, earlyDataBytes: DEFAULT_OPTIONS.earlyDataBytes });
  // The floor module, in its own VM (other code), configured with nothing.
  const floor = () => wasmNetworkFilter({ name: `bench-floor-${p}`, vmId: "floor", code: { local: floorPath }, configuration: {} });
  // Its telemetry mode in a VM of its own: the mode is a global of the module.
  const floorTelemetry = () => wasmNetworkFilter({ name: `bench-floor-telemetry-${p}`, vmId: "floor-telemetry", code: { local: floorPath }, configuration: `telemetry:${answerBytes(p)}` });
  // Arm 3's native proxy, with its own route table (arm 6: every route also matching an attachment).
  const routedNative = (attachment?: { name: string; value: string }) => {
    const native = nativeFilter(p, statPrefix);
    const typed = native.typed_config as Record<string, unknown>;
    if (p === "thrift") typed.route_config = nativeRouteTable(p, statPrefix);
    else typed.multiple_route_config = nativeRouteTable(p, statPrefix, attachment);
    return native;
  };
  switch (arm) {
    case 1: return [tcp()];
    case 2: return [wasm("perConnection"), tcp()];
    case 3: return [routedNative()];
    case 4: return [wasm("perRequest"), nativeFilter(p, statPrefix)];
    case 5: return [wasm("perRequest", true), nativeFilter(p, statPrefix)];
    case 6:
      if (p !== "dubbo") throw new Error("arm 6 is Dubbo only");
      return [routedNative(DUBBO_ROUTE_ATTACHMENT)];
    case 7: return [floor(), tcp()];
    case 8: return [floor(), routedNative()];
    case 9: return [floor(), nativeFilter(p, statPrefix)];
    case 10: return [floorTelemetry(), tcp()];
  }
}

// Istio gives every cluster circuit breakers at the maximum (pilot's cluster builder), so that Envoy's
// defaults (1024 connections, requests, pending requests) do not cap a mesh; the native proxies hold one
// upstream connection per request in flight and would hit the 1024 default under a pipelined load.
const ISTIO_UNLIMITED = 4294967295;

function meshCluster(name: string, port: number): object {
  return {
    ...staticCluster(name, port),
    circuit_breakers: { thresholds: [{ max_connections: ISTIO_UNLIMITED, max_pending_requests: ISTIO_UNLIMITED, max_requests: ISTIO_UNLIMITED, max_retries: ISTIO_UNLIMITED }] },
  };
}

/** Admin, one listener per (protocol, arm) on 127.0.0.1:0, and the clusters (v1, v2 -> the protocol's upstream). */
export function benchBootstrap(upstreamPorts: Record<ProtocolName, number>, opts: { wasmPath?: string; protocols?: ProtocolName[]; collectorPort?: number } = {}): object {
  const wasmPath = opts.wasmPath ?? path.join(repoRoot, "build/meltemi.wasm");
  const floorPath = path.join(repoRoot, "build/floor.wasm");
  const protocols = opts.protocols ?? ["thrift", "dubbo"];
  const listeners = protocols.flatMap((p) => armsOf(p).map((arm) => ({
    name: listenerName(p, arm),
    address: { socket_address: { address: "127.0.0.1", port_value: 0 } },
    filter_chains: [{ filters: armFilters(p, arm, wasmPath, floorPath) }],
  })));
  const cls = protocols.flatMap((p) => {
    const { v1, v2 } = clusters(p);
    return [meshCluster(v1, upstreamPorts[p]), meshCluster(v2, upstreamPorts[p])];
  });
  // Without a collector, arm 5's exports are refused (unknown cluster): dropped and counted, as in Envoy.
  if (opts.collectorPort !== undefined) cls.push(staticCluster(COLLECTOR_CLUSTER, opts.collectorPort));
  return {
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } },
    static_resources: { listeners, clusters: cls },
  };
}
