// What `meltemi controller` is told on its command line, besides the translation options.
import type { TranslateOptions } from "../translate/options";

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";

export interface RuntimeConfig {
  /** A kubeconfig file; unset: $KUBECONFIG, the in-cluster ServiceAccount, or ~/.kube/config. */
  kubeconfig?: string;
  translate: Partial<TranslateOptions>;
  /**
   * Emit TrafficExtension instead of WasmPlugin where the API server serves it (Istio 1.30+), decided
   * at every reconcile from API discovery; `translate.trafficExtension` is then ignored.
   */
  trafficExtensionAuto?: boolean;
  /** host:port of /healthz and /readyz ("0" disables). */
  healthProbeBindAddress: string;
  /** host:port of /metrics ("0" disables; the same address as the probes shares one server). */
  metricsBindAddress: string;
  leaderElection: {
    enabled: boolean;
    namespace: string;
    /** The Lease's name. */
    name: string;
    /** This replica's name in the Lease (holderIdentity). */
    identity: string;
    /** A leader that has not renewed for this long is presumed gone. */
    leaseDurationSeconds: number;
    /** A leader that could not renew for this long stops writing. */
    renewDeadlineSeconds: number;
    /** How often to try to acquire or renew. */
    retryPeriodSeconds: number;
  };
  /** Quiet time after a change before a reconcile (changes in a burst give one reconcile). */
  debounceMs: number;
  /** A reconcile happens at the latest this long after the first change of a burst. */
  maxDelayMs: number;
  /** How often API discovery is re-read (Aeraki / Istio CRDs installed later are picked up). */
  discoveryIntervalSeconds: number;
  /** Every input is reconciled at least this often, changed or not (drift of outputs is repaired). */
  resyncSeconds: number;
  logLevel: LogLevel;
}
