// What the demo prints: for each protocol and method, calls served by each version, rejections by
// reason (as the caller saw them: the error message of the protocol's error reply), and the p50 / p99
// latency seen by the caller over the last 10 seconds.
export interface CallRecord {
  protocol: string;
  method: string;
  /** The version that served the call, or undefined when the call failed. */
  version?: string;
  micros: number;
  /** The caller's error message for a failed call. */
  error?: string;
}

export type Reason = "rate limit" | "fault" | "denied" | "no route" | "other error";
export const REASONS: Reason[] = ["rate limit", "fault", "denied", "no route", "other error"];

/** The rejection reason of a failed call, from Meltemi's messages (filter/network/decision.ts) and the configured fault messages. */
export function reasonOf(error: string, faultMessages: readonly string[]): Reason {
  if (error.includes("meltemi: rate limit exceeded")) return "rate limit";
  if (error.includes("meltemi: unauthorized")) return "denied";
  if (error.includes("meltemi: no route") || error.includes("has no destination with weight")) return "no route";
  if (faultMessages.some((m) => m !== "" && error.includes(m))) return "fault";
  return "other error";
}

interface Row {
  protocol: string;
  method: string;
  served: Map<string, number>;
  rejected: Map<Reason, number>;
  lastErrors: string[];
  window: { at: number; micros: number }[];
}

const WINDOW_MS = 10_000;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export class Summary {
  private readonly rows = new Map<string, Row>();
  private readonly started = Date.now();

  constructor(private readonly versions: readonly string[], private readonly faultMessages: readonly string[]) {}

  record(r: CallRecord): void {
    const key = `${r.protocol} ${r.method}`;
    let row = this.rows.get(key);
    if (!row) {
      row = { protocol: r.protocol, method: r.method, served: new Map(), rejected: new Map(), lastErrors: [], window: [] };
      this.rows.set(key, row);
    }
    if (r.error === undefined) {
      const v = r.version ?? "?";
      row.served.set(v, (row.served.get(v) ?? 0) + 1);
    } else {
      const reason = reasonOf(r.error, this.faultMessages);
      row.rejected.set(reason, (row.rejected.get(reason) ?? 0) + 1);
      if (reason === "other error") { row.lastErrors.push(r.error); if (row.lastErrors.length > 3) row.lastErrors.shift(); }
    }
    const now = Date.now();
    row.window.push({ at: now, micros: r.micros });
    while (row.window.length > 0 && row.window[0].at < now - WINDOW_MS) row.window.shift();
  }

  /** Totals per protocol: served per version and rejections per reason. */
  totals(): Map<string, { served: Map<string, number>; rejected: Map<Reason, number> }> {
    const out = new Map<string, { served: Map<string, number>; rejected: Map<Reason, number> }>();
    for (const row of this.rows.values()) {
      const t = out.get(row.protocol) ?? { served: new Map(), rejected: new Map() };
      for (const [v, n] of row.served) t.served.set(v, (t.served.get(v) ?? 0) + n);
      for (const [r, n] of row.rejected) t.rejected.set(r, (t.rejected.get(r) ?? 0) + n);
      out.set(row.protocol, t);
    }
    return out;
  }

  /** The table, e.g. for the terminal every 2 seconds and once at the end. */
  format(title: string): string {
    const seconds = Math.round((Date.now() - this.started) / 1000);
    const reasons = REASONS.filter((r) => [...this.rows.values()].some((row) => row.rejected.has(r)) || r === "rate limit" || r === "fault");
    const head = ["protocol", "method", ...this.versions.map((v) => `served ${v}`), ...reasons.map((r) => `rej. ${r}`), "p50 ms", "p99 ms"];
    const lines: string[][] = [head];
    for (const row of [...this.rows.values()].sort((a, b) => (a.protocol + a.method < b.protocol + b.method ? -1 : 1))) {
      const sorted = row.window.map((w) => w.micros).sort((a, b) => a - b);
      lines.push([
        row.protocol, row.method,
        ...this.versions.map((v) => String(row.served.get(v) ?? 0)),
        ...reasons.map((r) => String(row.rejected.get(r) ?? 0)),
        (percentile(sorted, 50) / 1000).toFixed(2), (percentile(sorted, 99) / 1000).toFixed(2),
      ]);
    }
    const widths = head.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
    const text = lines.map((l) => l.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ")).join("\n");
    const errors = [...this.rows.values()].flatMap((row) => row.lastErrors.map((e) => `  ${row.protocol} ${row.method}: ${e}`));
    return `--- ${title} after ${seconds} s (latency: last 10 s, as the caller sees it) ---\n${text}\n` +
      (errors.length > 0 ? `last other errors:\n${errors.join("\n")}\n` : "");
  }
}
