// What the translation needs to know about the cluster and the filter build, besides the inputs.
import { CODEC_NAMES } from "./codecs";
import type { MeshTracingConfig } from "./tracing";

export type FailStrategy = "FAIL_OPEN" | "FAIL_CLOSE" | "FAIL_RELOAD";

export interface TranslateOptions {
  wasm: {
    /** The module: `oci://registry/repo@sha256:<manifest digest>` (or https://, file://). */
    url: string;
    /** The OCI manifest digest (hex), which WasmPlugin.sha256 pins. */
    sha256: string;
    /** A docker-registry Secret in each namespace where the server-side plugin lands. */
    imagePullSecret?: string;
  };
  /** Istio 1.30+ has TrafficExtension, which supersedes WasmPlugin. */
  trafficExtension: boolean;
  /** Istio's config root namespace: authorization policies there apply mesh-wide, as in Istio/Aeraki. */
  rootNamespace: string;
  /** The controller's own namespace (informational: generated objects live next to their inputs). */
  controllerNamespace: string;
  clusterDomain: string;
  /** Codecs compiled into the filter (default: every codec of the manifest, translate/codecs.ts). */
  codecs: string[];
  /** tcp_proxy early-data buffer in perConnection mode (Envoy caps it at 1 MiB). */
  earlyDataBytes: number;
  /**
   * Default plugin fail strategy: what Envoy does when the filter's VM fails (a trap). FAIL_RELOAD
   * (default): connections on the failed VM are closed and Envoy creates a new VM for the next
   * connection (backoff from 1 s), so the filter recovers; FAIL_CLOSE: closed until the next
   * configuration push; FAIL_OPEN: later connections skip the filter (no policy, no routing).
   * Server-side plugins that enforce authorization never fail open (FAIL_OPEN becomes FAIL_RELOAD).
   */
  failStrategy: FailStrategy;
  /**
   * Where Slime's `global` SmartLimiters are counted: Envoy's rate limit service, as Slime's limiter
   * module configures it (its defaults: domain slime, the service rate-limit.istio-system:18081, its
   * configuration in the ConfigMap istio-system/rate-limit-config under config.yaml).
   */
  slimeGlobal: { domain: string; cluster: string; configMapNamespace: string; configMapName: string };
  /**
   * Istio's MeshConfig, the parts tracing reads (extensionProviders, defaultProviders.tracing,
   * defaultConfig.tracing.sampling): the `mesh` key of ConfigMap istio in Istio's namespace
   * (`--mesh-config <file>`). Absent: no tracing provider is known, so no spans.
   */
  mesh?: MeshTracingConfig;
}

export const DEFAULT_OPTIONS: TranslateOptions = {
  wasm: {
    url: "oci://ghcr.io/meltemi/meltemi-filter@sha256:0000000000000000000000000000000000000000000000000000000000000000",
    sha256: "0000000000000000000000000000000000000000000000000000000000000000",
  },
  trafficExtension: false,
  rootNamespace: "istio-system",
  controllerNamespace: "meltemi-system",
  clusterDomain: "cluster.local",
  codecs: [...CODEC_NAMES],
  earlyDataBytes: 65536,
  failStrategy: "FAIL_RELOAD",
  slimeGlobal: { domain: "slime", cluster: "outbound|18081||rate-limit.istio-system.svc.cluster.local", configMapNamespace: "istio-system", configMapName: "rate-limit-config" },
};

export function withDefaults(partial: Partial<TranslateOptions> = {}): TranslateOptions {
  return { ...DEFAULT_OPTIONS, ...partial, wasm: { ...DEFAULT_OPTIONS.wasm, ...partial.wasm }, slimeGlobal: { ...DEFAULT_OPTIONS.slimeGlobal, ...partial.slimeGlobal } };
}
