// Counters of the global limits, kept in the VM and added to Envoy's metrics on the root's tick
// (plugin.ts): a request never makes a metric host call for them, and the logic stays testable without a
// host. Reset to zero after each flush.
export class GlobalStats {
  /** Reports answered by the service. */
  reportsOk: u64 = 0;
  /** Reports failed: gRPC error or timeout (proxy_on_grpc_close), an answer that did not decode. */
  reportsFailed: u64 = 0;
  /** Reports that could not be sent (proxy_grpc_call refused, e.g. an unknown cluster). */
  reportsUnsent: u64 = 0;
  /** Requests admitted without a verdict (fail open). */
  failOpenAdmitted: u64 = 0;
  /** Requests rejected without a verdict (fail closed). */
  failClosedRejected: u64 = 0;
  /** Requests rejected by the service's verdict or its remaining quota. */
  overLimitRejected: u64 = 0;
  /** Answers for a descriptor no limit of the service's configuration matched (it is unlimited). */
  unlimitedAnswers: u64 = 0;
  /** Requests whose descriptor value was beyond MAX_KNOWN_VALUES of a limit (the fail mode applied). */
  overflow: u64 = 0;

  clear(): void {
    this.reportsOk = 0; this.reportsFailed = 0; this.reportsUnsent = 0;
    this.failOpenAdmitted = 0; this.failClosedRejected = 0; this.overLimitRejected = 0;
    this.unlimitedAnswers = 0; this.overflow = 0;
  }
}

export const globalStats = new GlobalStats();
