// tcp_proxy for perConnection mode. The filter pauses the connection, reads the first request, sets the
// well-known filter state `envoy.tcp_proxy.cluster`, then continues; tcp_proxy must keep reading while
// it waits, which needs `max_early_data_bytes` (Envoy >= 1.37; tcp_proxy.proto). Istio never sets it.
import { TCP_PROXY, TYPE_TCP_PROXY } from "./names";

/** Envoy's limit for max_early_data_bytes. */
export const MAX_EARLY_DATA_BYTES = 1 << 20;

export interface EarlyDataOptions {
  earlyDataBytes: number;
  /** ON_DOWNSTREAM_DATA connects upstream only once the client sent bytes; default: Envoy's (IMMEDIATE). */
  upstreamConnectMode?: "IMMEDIATE" | "ON_DOWNSTREAM_DATA";
}

/** The fields perConnection mode adds to Istio's tcp_proxy (the value of an EnvoyFilter MERGE). */
export function tcpProxyEarlyDataPatch(opts: EarlyDataOptions): Record<string, unknown> {
  if (!Number.isInteger(opts.earlyDataBytes) || opts.earlyDataBytes < 1 || opts.earlyDataBytes > MAX_EARLY_DATA_BYTES) {
    throw new RangeError(`earlyDataBytes must be 1..${MAX_EARLY_DATA_BYTES}, got ${opts.earlyDataBytes}`);
  }
  const typed: Record<string, unknown> = { "@type": TYPE_TCP_PROXY, max_early_data_bytes: opts.earlyDataBytes };
  if (opts.upstreamConnectMode) typed.upstream_connect_mode = opts.upstreamConnectMode;
  return { name: TCP_PROXY, typed_config: typed };
}

/** A complete tcp_proxy network filter in perConnection mode (for bootstraps without Istio). */
export function tcpProxyFilter(opts: EarlyDataOptions & { statPrefix: string; cluster: string }): Record<string, unknown> {
  const patch = tcpProxyEarlyDataPatch(opts);
  return { name: TCP_PROXY, typed_config: { ...(patch.typed_config as object), stat_prefix: opts.statPrefix, cluster: opts.cluster } };
}
