// The sidecars of an Aeraki sample as the controller translates it, for the tests that run Aeraki's
// MetaProtocol samples in real Envoys (bolt-aeraki, trpc-aeraki): the translation itself, a server
// pod's sidecar (the WasmPlugin's filter before Istio's inbound tcp_proxy), and the client's outbound
// listener (the EnvoyFilter's extension config before Istio's outbound tcp_proxy with the EnvoyFilter's
// MERGE applied). Only the module is a local file instead of the OCI image.
import assert from "node:assert/strict";
import path from "node:path";
import { loadObjects } from "../../controller/render/load";
import { classify } from "../../controller/render/classify";
import { translate } from "../../controller/translate/translate";
import { TEST_OPTIONS } from "../controller/support";
import { staticBootstrap, staticCluster, tcpProxy, wasmNetworkFilter } from "./bootstrap";
import { repoRoot, withEnvoy, type Envoy } from "./envoy";

export const wasmPath = path.join(repoRoot, "build/meltemi.wasm");

type Patch = { applyTo: string; patch: { operation: string; value: any } };

/** The EnvoyFilter's two patches the client's sidecar applies: the filter's extension config and tcp_proxy's MERGE. */
export interface ClientPatches { extension: any; merge: any }

/** The patches of an EnvoyFilter object (as translated or rendered). */
export function clientPatches(envoyFilter: any): ClientPatches {
  const patches = envoyFilter.spec.configPatches as Patch[];
  const extension = patches.find((p) => p.applyTo === "EXTENSION_CONFIG")!.patch.value;
  const merge = patches.find((p) => p.applyTo === "NETWORK_FILTER" && p.patch.operation === "MERGE")!.patch.value;
  return { extension, merge };
}

/** The sample file translated without warnings: its WasmPlugin and the client's patches. */
export async function translatedSample(sample: string): Promise<ClientPatches & { plugin: any }> {
  const { snapshot } = classify(await loadObjects([sample], async () => ""), "default");
  const result = translate(snapshot, TEST_OPTIONS);
  assert.deepEqual(result.diagnostics.filter((d) => d.severity !== "info"), [], "the sample translates without warnings");
  const plugin = result.objects.find((o) => o.kind === "WasmPlugin") as any;
  return { plugin, ...clientPatches(result.objects.find((o) => o.kind === "EnvoyFilter")) };
}

/** The destination cluster of the client configuration's route `route`. */
export function clusterOfRoute(patches: ClientPatches, route: string): string {
  const config = JSON.parse(patches.extension.typed_config.config.configuration.value);
  return config.routes.find((r: any) => r.name === route).destinations[0].cluster;
}

/**
 * A server pod's sidecar: the WasmPlugin's filter (its own VM: a pod's buckets are its own) before
 * Istio's inbound tcp_proxy to `inbound` (Istio's inbound|<port>|| cluster) at `serverPort`.
 */
export async function withServerPod<T>(plugin: any, inbound: string, serverPort: number, body: (pod: Envoy, port: number) => Promise<T>): Promise<T> {
  const filter = wasmNetworkFilter({ pluginConfig: plugin.spec.pluginConfig, pluginName: `${plugin.metadata.namespace}.${plugin.metadata.name}`, wasmPath });
  (filter as any).typed_config.config.root_id = plugin.spec.pluginName;
  const bootstrap = staticBootstrap([{ name: "inbound", filters: [filter, tcpProxy(inbound)] }], [staticCluster(inbound, serverPort)]);
  return withEnvoy({ bootstrap, concurrency: 1 }, async (pod) => body(pod, await pod.listenerPort("inbound")));
}

/**
 * The client's sidecar bootstrap: listener "outbound" with the EnvoyFilter's extension config before
 * Istio's outbound tcp_proxy to `outboundDefault` (the service's subset-less cluster) with the MERGE
 * applied; `clusters` maps each cluster name to a local port.
 */
export function clientSidecarBootstrap(patches: ClientPatches, outboundDefault: string, clusters: [string, number][]): object {
  const clientFilter = structuredClone(patches.extension);
  clientFilter.typed_config.config.vm_config.code = { local: { filename: wasmPath } };
  const outboundTcpProxy = tcpProxy(outboundDefault) as any;
  assert.equal(patches.merge.name, outboundTcpProxy.name);
  Object.assign(outboundTcpProxy.typed_config, patches.merge.typed_config);
  return staticBootstrap([{ name: "outbound", filters: [clientFilter, outboundTcpProxy] }], clusters.map(([name, port]) => staticCluster(name, port)));
}
