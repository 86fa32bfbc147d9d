// The adaptive engine's own counters, in Prometheus' text exposition format (version 0.0.4) for the
// controller's /metrics: how often metric queries failed and why, how often quotas changed.
export class Counter {
  private readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string, readonly labelName?: string) {}

  inc(label = "", by = 1): void {
    this.values.set(label, (this.values.get(label) ?? 0) + by);
  }
  get(label = ""): number {
    return this.values.get(label) ?? 0;
  }
  total(): number {
    let n = 0;
    for (const v of this.values.values()) n += v;
    return n;
  }
  exposition(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    const entries = [...this.values.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (entries.length === 0 && !this.labelName) lines.push(`${this.name} 0`);
    for (const [label, v] of entries) {
      const escaped = label.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
      lines.push(this.labelName ? `${this.name}{${this.labelName}="${escaped}"} ${v}` : `${this.name} ${v}`);
    }
    return lines.join("\n") + "\n";
  }
}

export class AdaptiveMetrics {
  readonly refreshes = new Counter("meltemi_adaptive_refreshes_total", "Adaptive rate limit refresh rounds.");
  readonly queryFailures = new Counter("meltemi_adaptive_metric_failures_total", "Metric queries that failed; the last good quotas stayed in force.", "reason");
  readonly quotaUpdates = new Counter("meltemi_adaptive_quota_updates_total", "Times the resolved quotas of a limiter changed.");

  exposition(): string {
    return this.refreshes.exposition() + this.queryFailures.exposition() + this.quotaUpdates.exposition();
  }
}
