// The Meltemi Wasm network filter as Envoy configures it (envoy.extensions.filters.network.wasm.v3.Wasm).
// The configuration travels as a JSON string (StringValue), which is what on_configure receives.
import { TYPE_STRING_VALUE, TYPE_WASM_NETWORK, WASM_NETWORK } from "./names";

export type WasmCode = { local: string } | { remote: { uri: string; sha256: string } };

export interface WasmFilterOptions {
  /** Envoy's plugin name (the filter keys its last good configuration by it). */
  name: string;
  rootId?: string;
  vmId?: string;
  code: WasmCode;
  configuration: unknown;
  /** PluginConfig.failure_policy (Envoy's default when unset: FAIL_CLOSED). */
  failurePolicy?: "FAIL_OPEN" | "FAIL_CLOSED" | "FAIL_RELOAD";
}

export function wasmFilterConfig(opts: WasmFilterOptions): Record<string, unknown> {
  const code =
    "local" in opts.code
      ? { local: { filename: opts.code.local } }
      : // istio-agent fetches remote modules (oci://, https://) named in ECDS and hands Envoy a local file.
        { remote: { http_uri: { uri: opts.code.remote.uri, timeout: "30s" }, sha256: opts.code.remote.sha256 } };
  const config: Record<string, unknown> = {
    name: opts.name,
    root_id: opts.rootId ?? "meltemi",
    configuration: { "@type": TYPE_STRING_VALUE, value: JSON.stringify(opts.configuration) },
    vm_config: { vm_id: opts.vmId ?? "meltemi", runtime: "envoy.wasm.runtime.v8", code },
  };
  if (opts.failurePolicy !== undefined) config.failure_policy = opts.failurePolicy;
  return { "@type": TYPE_WASM_NETWORK, config };
}

export function wasmNetworkFilter(opts: WasmFilterOptions): Record<string, unknown> {
  return { name: WASM_NETWORK, typed_config: wasmFilterConfig(opts) };
}
