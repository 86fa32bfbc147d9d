// The filter's Envoy metrics. Names are Prometheus-legal and start with `meltemi_`; Envoy stores them
// under `wasmcustom.` and exports them to /stats/prometheus without the `envoy_` prefix (PLATFORM.md).
// Every worker VM defines the same names, and Envoy's stats store gives them one counter, so the values
// are per proxy, not per worker.
import { MetricType, defineMetric, incrementMetric } from "../abi/host";

export const CONNECTIONS_TOTAL = "meltemi_connections_total";
export const ACTIVE_CONNECTIONS = "meltemi_active_connections";
export const DOWNSTREAM_RX_BYTES = "meltemi_downstream_rx_bytes_total";
export const DOWNSTREAM_TX_BYTES = "meltemi_downstream_tx_bytes_total";
export const CONFIG_ACCEPTED = "meltemi_config_accepted_total";
export const CONFIG_REJECTED = "meltemi_config_rejected_total";

class Metrics {
  defined: bool = false;
  connections: u32 = u32.MAX_VALUE;
  activeConnections: u32 = u32.MAX_VALUE;
  rxBytes: u32 = u32.MAX_VALUE;
  txBytes: u32 = u32.MAX_VALUE;
  configAccepted: u32 = u32.MAX_VALUE;
  configRejected: u32 = u32.MAX_VALUE;

  /** Defines the metrics once per VM; later calls are free. */
  define(): void {
    if (this.defined) return;
    this.defined = true;
    this.connections = defineMetric(MetricType.Counter, CONNECTIONS_TOTAL);
    this.activeConnections = defineMetric(MetricType.Gauge, ACTIVE_CONNECTIONS);
    this.rxBytes = defineMetric(MetricType.Counter, DOWNSTREAM_RX_BYTES);
    this.txBytes = defineMetric(MetricType.Counter, DOWNSTREAM_TX_BYTES);
    this.configAccepted = defineMetric(MetricType.Counter, CONFIG_ACCEPTED);
    this.configRejected = defineMetric(MetricType.Counter, CONFIG_REJECTED);
  }
}

export const metrics = new Metrics();

export function count(id: u32, delta: i64): void {
  incrementMetric(id, delta);
}
