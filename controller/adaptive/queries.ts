// Named PromQL queries (Slime's limiter module `metric.prometheus.handlers`: `cpu.sum: sum(container_cpu_
// usage_seconds_total{namespace="$namespace",pod=~"$pod_name",image=""})`) and their substitution for
// one set of pods. A template reference `{{.<set>.<query name>}}` reads that query over the pods of
// `<set>`; `{{.<set>.pod}}` is the number of ready pods of the set (from EndpointSlices).
//
// Substitution: `$namespace` -> the service's namespace, `$pod_name` -> the set's ready pod names as a
// PromQL regex alternation (`a|b|c`, regex metacharacters escaped; meant for `pod=~"$pod_name"`),
// `$service` -> the service name, `$set` -> the set name. Values are also escaped for a PromQL string
// literal, so nothing a pod name holds can end the quoted string.

export type QueryTemplates = ReadonlyMap<string, string>;

/** Slime's documented handlers, as defaults (doc/en/smart_limiter.md of slime-io/slime). */
export const DEFAULT_QUERIES: QueryTemplates = new Map([
  ["cpu.sum", 'sum(container_cpu_usage_seconds_total{namespace="$namespace",pod=~"$pod_name",image=""})'],
  ["cpu.max", 'max(container_cpu_usage_seconds_total{namespace="$namespace",pod=~"$pod_name",image=""})'],
  ["memory.sum", 'sum(container_memory_usage_bytes{namespace="$namespace",pod=~"$pod_name",image=""})'],
  ["memory.max", 'max(container_memory_usage_bytes{namespace="$namespace",pod=~"$pod_name",image=""})'],
]);

export const POD_COUNT = "pod";

/** The set and query a metric reference names: `_base.cpu.sum` -> {set: "_base", metric: "cpu.sum"}. */
export function splitReference(name: string): { set: string; metric: string } | null {
  const dot = name.indexOf(".");
  if (dot <= 0 || dot === name.length - 1) return null;
  return { set: name.slice(0, dot), metric: name.slice(dot + 1) };
}

const escapeRegex = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
/** For inside a double-quoted PromQL string. */
const escapeString = (s: string): string => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export interface Substitution {
  namespace: string;
  service: string;
  set: string;
  podNames: readonly string[];
}

export function substitute(template: string, s: Substitution): string {
  // A set without ready pods matches no pod (an empty alternation would match every pod name "").
  const pods = s.podNames.length > 0 ? [...s.podNames].sort().map(escapeRegex).join("|") : "$^";
  const values: Record<string, string> = { namespace: s.namespace, pod_name: pods, service: s.service, set: s.set };
  return template.replace(/\$(namespace|pod_name|service|set)\b/g, (_, key: string) => escapeString(values[key]!));
}
