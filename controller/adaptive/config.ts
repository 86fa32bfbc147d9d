// `meltemi controller`'s adaptive flags into the engine's configuration. Named queries: Slime's
// documented defaults (queries.ts), overridden or extended by a YAML/JSON file mapping a name to a PromQL
// template (`cpu.sum: sum(container_cpu_usage_seconds_total{namespace="$namespace",pod=~"$pod_name"})`).
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { DEFAULT_QUERIES, POD_COUNT } from "./queries";
import type { AdaptiveConfig } from "./runtime_source";

export interface AdaptiveFlags {
  prometheusUrl: string;
  queriesFile?: string;
  refreshSeconds: number;
  queryTimeoutMs: number;
  confirmations: number;
  quotaTolerance: number;
  minUpdateIntervalSeconds: number;
  clusterDomain: string;
}

const QUERY_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]*(\.[A-Za-z0-9_][A-Za-z0-9_-]*)*$/;

export function readQueries(file: string | undefined): Map<string, string> {
  const queries = new Map(DEFAULT_QUERIES);
  if (!file) return queries;
  const doc = parse(readFileSync(file, "utf8")) as unknown;
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new Error(`${file}: expected a map of query name -> PromQL`);
  for (const [name, q] of Object.entries(doc)) {
    if (!QUERY_NAME.test(name) || name === POD_COUNT) throw new Error(`${file}: "${name}" is not a usable query name (dot-separated words; "pod" is the pod count)`);
    if (typeof q !== "string" || q.trim() === "") throw new Error(`${file}: query "${name}" must be a PromQL string`);
    queries.set(name, q.trim());
  }
  return queries;
}

export function adaptiveConfig(flags: AdaptiveFlags): AdaptiveConfig {
  if (!/^https?:\/\/\S+$/.test(flags.prometheusUrl)) throw new Error(`--prometheus-url must be http:// or https://, got "${flags.prometheusUrl}"`);
  if (!(flags.quotaTolerance >= 0 && flags.quotaTolerance < 1)) throw new Error("--adaptive-quota-tolerance must be in [0, 1)");
  return {
    prometheusUrl: flags.prometheusUrl,
    queries: readQueries(flags.queriesFile),
    refreshMs: flags.refreshSeconds * 1000,
    queryTimeoutMs: flags.queryTimeoutMs,
    confirmations: flags.confirmations,
    quotaTolerance: flags.quotaTolerance,
    minUpdateIntervalMs: flags.minUpdateIntervalSeconds * 1000,
    clusterDomain: flags.clusterDomain,
  };
}
