// The server side of one Meltemi service port: the filter in the service's own pods (inbound), as a
// WasmPlugin of type NETWORK, or a TrafficExtension on Istio 1.30+. Scoped by the service's selector to
// its workloads and by the port the workload binds (Istio matches SERVER ports on the port "bound by the
// server process", i.e. the targetPort; istio/api extensions/v1alpha1/wasm.proto TrafficSelector).
import type { MeltemiPort, MeltemiService } from "../discovery/services";
import type { KubeObject } from "../k8s/objects";
import type { FilterConfig } from "./filter_config";
import type { FailStrategy, TranslateOptions } from "./options";
import { generatedMeta, objectName } from "./ownership";

export const EXTENSIONS_API = "extensions.istio.io/v1alpha1";
/** Envoy's root_id of the Meltemi filter. */
export const PLUGIN_NAME = "meltemi";

export interface ServerPluginInput {
  service: MeltemiService & { selector: Record<string, string> };
  port: MeltemiPort & { targetPort: number };
  config: FilterConfig;
  failStrategy: FailStrategy;
  options: TranslateOptions;
  nameBase: string;
}

export function serverPluginName(nameBase: string, targetPort: number): string {
  return objectName("meltemi-server", nameBase, targetPort);
}

export function serverPlugin(input: ServerPluginInput): KubeObject {
  const { service, port, config, options } = input;
  const metadata = generatedMeta(serverPluginName(input.nameBase, port.targetPort), service.namespace, service.object, "server");
  const match = [{ mode: "SERVER", ports: [{ number: port.targetPort }] }];
  const wasm: Record<string, unknown> = { url: options.wasm.url, sha256: options.wasm.sha256 };
  if (options.wasm.imagePullSecret) wasm.imagePullSecret = options.wasm.imagePullSecret;
  const common = { pluginName: PLUGIN_NAME, pluginConfig: config, failStrategy: input.failStrategy, type: "NETWORK" };
  if (options.trafficExtension) {
    return {
      apiVersion: EXTENSIONS_API,
      kind: "TrafficExtension",
      metadata,
      spec: { selector: { matchLabels: service.selector }, match, wasm: { ...wasm, ...common } },
    };
  }
  return {
    apiVersion: EXTENSIONS_API,
    kind: "WasmPlugin",
    metadata,
    spec: { selector: { matchLabels: service.selector }, match, ...wasm, ...common },
  };
}
