// The filter's Envoy metrics. Names are Prometheus-legal and start with `meltemi_`; Envoy stores them
// under `wasmcustom.` and exports them to /stats/prometheus without the `envoy_` prefix (docs/platform.md).
// Every worker VM defines the same names, and Envoy's stats store gives them one counter, so the values
// are per proxy, not per worker.
import { MetricType, defineMetric, getMetric, incrementMetric, recordMetric } from "../abi/host";
import { DecodeError, ErrorKind, decodeErrorName, errorKindName } from "../codec/codec";
import { TAG_REASON, tag } from "./tags";

export const CONNECTIONS_TOTAL = "meltemi_connections_total";
export const ACTIVE_CONNECTIONS = "meltemi_active_connections";
export const DOWNSTREAM_RX_BYTES = "meltemi_downstream_rx_bytes_total";
export const DOWNSTREAM_TX_BYTES = "meltemi_downstream_tx_bytes_total";
export const CONFIG_ACCEPTED = "meltemi_config_accepted_total";
export const CONFIG_REJECTED = "meltemi_config_rejected_total";
export const CONFIG_FOLLOWED = "meltemi_config_followed_total";
// Request counters and durations: request_metrics.ts. Rejections and decode errors carry a `reason`.
export const REJECTIONS_TOTAL = "meltemi_rejections_total";
export const DECODE_ERRORS_TOTAL = "meltemi_decode_errors_total";
export const LIMITER_CONTENDED_TOTAL = "meltemi_rate_limiter_contended_total";
export const ROUTING_KEY_FAILURES_TOTAL = "meltemi_routing_key_failures_total";
export const DELAYS_TOTAL = "meltemi_fault_delays_total";
export const RESPONSE_MUTATION_FAILURES_TOTAL = "meltemi_response_mutation_failures_total";
export const VM_MEMORY_BYTES = "meltemi_vm_memory_bytes";
export const CONNECTIONS_SHED_TOTAL = "meltemi_connections_shed_total";
export const BUFFER_FAILURES_TOTAL = "meltemi_buffer_failures_total";

function unset(n: i32): StaticArray<u32> {
  const a = new StaticArray<u32>(n);
  for (let i = 0; i < n; i++) a[i] = u32.MAX_VALUE;
  return a;
}

class Metrics {
  defined: bool = false;
  connections: u32 = u32.MAX_VALUE;
  activeConnections: u32 = u32.MAX_VALUE;
  rxBytes: u32 = u32.MAX_VALUE;
  txBytes: u32 = u32.MAX_VALUE;
  configAccepted: u32 = u32.MAX_VALUE;
  configRejected: u32 = u32.MAX_VALUE;
  configFollowed: u32 = u32.MAX_VALUE;
  /** By ErrorKind. */
  rejections: StaticArray<u32> = unset(5);
  /** By DecodeError (None unused). */
  decodeErrors: StaticArray<u32> = unset(7);
  limiterContended: u32 = u32.MAX_VALUE;
  routingKeyFailures: u32 = u32.MAX_VALUE;
  delays: u32 = u32.MAX_VALUE;
  responseMutationFailures: u32 = u32.MAX_VALUE;
  vmMemory: u32 = u32.MAX_VALUE;
  connectionsShed: u32 = u32.MAX_VALUE;
  bufferFailures: u32 = u32.MAX_VALUE;

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
    this.configFollowed = defineMetric(MetricType.Counter, CONFIG_FOLLOWED);
    for (let k = 0; k < this.rejections.length; k++) {
      this.rejections[k] = defineMetric(MetricType.Counter, tag("", TAG_REASON, errorKindName(<ErrorKind>k)) + REJECTIONS_TOTAL);
    }
    for (let e = 1; e < this.decodeErrors.length; e++) {
      this.decodeErrors[e] = defineMetric(MetricType.Counter, tag("", TAG_REASON, decodeErrorName(<DecodeError>e)) + DECODE_ERRORS_TOTAL);
    }
    this.limiterContended = defineMetric(MetricType.Counter, LIMITER_CONTENDED_TOTAL);
    this.routingKeyFailures = defineMetric(MetricType.Counter, ROUTING_KEY_FAILURES_TOTAL);
    this.delays = defineMetric(MetricType.Counter, DELAYS_TOTAL);
    this.responseMutationFailures = defineMetric(MetricType.Counter, RESPONSE_MUTATION_FAILURES_TOTAL);
    this.vmMemory = defineMetric(MetricType.Gauge, VM_MEMORY_BYTES);
    this.connectionsShed = defineMetric(MetricType.Counter, CONNECTIONS_SHED_TOTAL);
    this.bufferFailures = defineMetric(MetricType.Counter, BUFFER_FAILURES_TOTAL);
  }
}

export const metrics = new Metrics();

export function countRejection(kind: ErrorKind): void {
  incrementMetric(metrics.rejections[<i32>kind], 1);
}

export function countDecodeError(error: DecodeError): void {
  const e = <i32>error;
  if (e > 0 && e < metrics.decodeErrors.length) incrementMetric(metrics.decodeErrors[e], 1);
}

export function count(id: u32, delta: i64): void {
  incrementMetric(id, delta);
}

// The byte counters are added up in the VM and handed to Envoy at a flush point (flushByteCounts): when
// a connection closes (before meltemi_active_connections goes down, so a reader that waits for it sees
// every byte of the closed connections) and on each tick of a root (at least once a second,
// plugin.ts). Per read that saves two host calls (the read's and the write's counter); the price is
// that bytes of connections still open reach Envoy's stats up to a second late. The counts stay exact.
let heldRxBytes: u64 = 0;
let heldTxBytes: u64 = 0;

/** Bytes read from a client (meltemi_downstream_rx_bytes_total), handed to Envoy at the next flush point. */
export function countRxBytes(n: u32): void {
  heldRxBytes += n;
}

/** Bytes written to a client (meltemi_downstream_tx_bytes_total), handed to Envoy at the next flush point. */
export function countTxBytes(n: u32): void {
  heldTxBytes += n;
}

/** Hands the byte counts held since the last flush to Envoy (see countRxBytes). */
export function flushByteCounts(): void {
  if (heldRxBytes != 0) {
    incrementMetric(metrics.rxBytes, <i64>heldRxBytes);
    heldRxBytes = 0;
  }
  if (heldTxBytes != 0) {
    incrementMetric(metrics.txBytes, <i64>heldTxBytes);
    heldTxBytes = 0;
  }
}

/** Pages of linear memory this VM had when it last reported them. */
let reportedPages: i32 = 0;

/**
 * Keeps the gauge meltemi_vm_memory_bytes at the largest linear memory of any of the proxy's VMs (the
 * workers' VMs share the stat; Wasm memory never shrinks, so the largest is what a per-VM limit is
 * about). Costs nothing while memory does not grow: `memory.size` is one instruction, and the host is
 * called only when this VM grew.
 */
export function noteMemory(): void {
  const pages = memory.size();
  if (pages == reportedPages || metrics.vmMemory == u32.MAX_VALUE) return;
  reportedPages = pages;
  const bytes = <u64>pages << 16;
  if (bytes > getMetric(metrics.vmMemory)) recordMetric(metrics.vmMemory, bytes);
}
