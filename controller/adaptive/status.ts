// The status Slime users know (`status.metricStatus`: metric name -> value as a string,
// `status.ratelimitStatus`: set -> {descriptor: [...]} with the quota resolved), plus Meltemi's
// `conditions` saying whether the limits are current and why not.
import type { ResolvedSets } from "../translate/adaptive_limiter";

export interface StatusDescriptor {
  action: { quota: string; fill_interval: { seconds: number; nanos?: number }; strategy: string };
  match?: unknown;
}

export interface AdaptiveCondition {
  type: "Ready" | "MetricsAvailable";
  status: "True" | "False";
  reason: string;
  message: string;
}

export interface AdaptiveStatus {
  metricStatus: Record<string, string>;
  ratelimitStatus: Record<string, { descriptor: StatusDescriptor[] }>;
  conditions: AdaptiveCondition[];
}

export function fillInterval(ms: number): { seconds: number; nanos?: number } {
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms % 1000) * 1_000_000;
  return nanos > 0 ? { seconds, nanos } : { seconds };
}

export function ratelimitStatus(sets: ResolvedSets): AdaptiveStatus["ratelimitStatus"] {
  const out: AdaptiveStatus["ratelimitStatus"] = {};
  for (const [set, descriptors] of [...sets.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (descriptors.length === 0) continue;
    out[set] = {
      descriptor: descriptors.map((d) => {
        const s: StatusDescriptor = { action: { quota: String(d.quota), fill_interval: fillInterval(d.fillIntervalMs), strategy: d.strategy } };
        if (d.match) s.match = d.match;
        return s;
      }),
    };
  }
  return out;
}

/** Metric values as Slime shows them: strings, up to 9 decimals, keys sorted. */
export function metricStatus(values: ReadonlyMap<string, number>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of [...values.keys()].sort()) out[k] = String(Math.round(values.get(k)! * 1e9) / 1e9);
  return out;
}
