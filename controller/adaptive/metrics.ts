// The adaptive engine's own counters (prom-client), registered in the controller's registry so that
// /metrics shows them: how often metric queries failed and why, how often quotas changed.
import { Counter, Registry } from "prom-client";

export class AdaptiveMetrics {
  readonly refreshes: Counter;
  readonly queryFailures: Counter<"reason">;
  readonly quotaUpdates: Counter;

  constructor(readonly registry = new Registry()) {
    const registers = [registry];
    this.refreshes = new Counter({ name: "meltemi_adaptive_refreshes_total", help: "Adaptive rate limit refresh rounds", registers });
    this.queryFailures = new Counter({ name: "meltemi_adaptive_metric_failures_total", help: "Metric reads that failed, by reason; the last good quotas stayed in force", labelNames: ["reason"] as const, registers });
    this.quotaUpdates = new Counter({ name: "meltemi_adaptive_quota_updates_total", help: "Times the quotas in force of a limiter changed", registers });
  }

  /** The value of a counter (for tests and logs). */
  static async value(counter: Counter<string>, labels: Record<string, string> = {}): Promise<number> {
    const m = await counter.get();
    return m.values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);
  }
}
