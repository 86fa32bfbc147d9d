// Slime's `global` SmartLimiter descriptors (strategy global: one counter for all the service's pods,
// kept by Envoy's rate limit service; slime-io/slime modules/limiter controllers/envoy_global_limit.go)
// as the filter's global limits, and the rate limit service's configuration generated from the same
// objects (its domain and descriptors YAML, in the ConfigMap Slime's limiter module writes), so that one
// source drives both (docs/global-rate-limit.md "The controller").
//
// What Slime does, and Meltemi the same way:
// - the descriptor's value is `Service[<name>.<namespace>]-Id[<number>]`, a constant per descriptor;
//   the request sends it under the key generic_key (no match) or header_match (a match on the request's
//   headers, here its RPC metadata), when the match holds;
// - the quota is requests_per_unit of the service's unit: fill_interval must be 1 s, 1 min, 1 h or 1 day;
// - the ConfigMap (key config.yaml) holds one domain and the descriptors sorted by value.
// The Id: Slime hashes the descriptor's Go protobuf text (adler32), which is not a stable format, so
// Meltemi hashes its own canonical form: Ids differ from Slime's, and Meltemi writes both sides.
import { stringify } from "yaml";
import { objectKey, type KubeObject, type ObjectRef } from "../k8s/objects";
import type { AdaptiveLimiter, SlimeGlobalDescriptor } from "./adaptive_limiter";
import type { FilterGlobalLimit } from "./filter_config";
import type { TranslateOptions } from "./options";
import { generatedMeta } from "./ownership";

/** Every input the ConfigMap is generated from (`Kind/namespace/name`, comma-separated). */
export const SOURCES_ANNOTATION = "meltemi.dev/sources";

/** Envoy's HTTP rate limit filter's default timeout, which Slime's filter keeps. */
const TIMEOUT_MS = 20;
const REPORT_INTERVAL_MS = 100;

/** adler32 (RFC 1950), as Slime's Ids use. */
export function adler32(text: string): number {
  let a = 1;
  let b = 0;
  for (const byte of Buffer.from(text, "utf8")) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** Keys in sorted order at every level, so that the same descriptor always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function descriptorValue(limiter: AdaptiveLimiter, d: SlimeGlobalDescriptor): string {
  const id = adler32(canonical({ quota: d.requestsPerUnit, unit: d.unit, match: d.match ?? null, path: d.path }) + `${limiter.namespace}/${limiter.source.name}`);
  return `Service[${limiter.service}.${limiter.namespace}]-Id[${id}]`;
}

const keyOf = (d: SlimeGlobalDescriptor) => (d.match ? "header_match" : "generic_key");

export function slimeGlobalLimits(limiter: AdaptiveLimiter, options: TranslateOptions): FilterGlobalLimit[] {
  return (limiter.globals ?? []).map((d) => {
    const limit: FilterGlobalLimit = {
      domain: options.slimeGlobal.domain,
      cluster: options.slimeGlobal.cluster,
      entries: [{ key: keyOf(d), value: descriptorValue(limiter, d) }],
      timeoutMs: TIMEOUT_MS,
      reportIntervalMs: REPORT_INTERVAL_MS,
      // Slime's HTTP rate limit filter keeps Envoy's default failure_mode_deny: false.
      failMode: "open",
    };
    if (d.match) limit.match = d.match;
    return limit;
  });
}

/**
 * The rate limit service's ConfigMap for every `global` descriptor of the SmartLimiters applied (none:
 * no ConfigMap). Its owner annotation names the first of them; it is rewritten whole from all of them.
 */
export function slimeGlobalConfigMap(limiters: AdaptiveLimiter[], options: TranslateOptions): KubeObject | null {
  const descriptors = limiters.flatMap((l) => (l.globals ?? []).map((d) => ({
    key: keyOf(d),
    value: descriptorValue(l, d),
    rate_limit: { unit: d.unit, requests_per_unit: d.requestsPerUnit },
  })));
  if (descriptors.length === 0) return null;
  descriptors.sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
  const owners = limiters.filter((l) => l.globals?.length).map((l) => l.source).sort(compareRefs);
  const { configMapNamespace: namespace, configMapName: name, domain } = options.slimeGlobal;
  const metadata = generatedMeta(name, namespace, owners[0]!, "server");
  // Made from every global SmartLimiter: an ownerReference to the first (one in the ConfigMap's own
  // namespace) would have Kubernetes delete it with that one while others still need it. The runtime
  // deletes it when no global SmartLimiter is left (controller/runtime/apply.ts).
  delete metadata.ownerReferences;
  metadata.annotations![SOURCES_ANNOTATION] = owners.map((o) => objectKey(o)).join(",");
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata,
    data: { "config.yaml": stringify({ domain, descriptors }) },
  } as KubeObject;
}

function compareRefs(a: ObjectRef, b: ObjectRef): number {
  const ka = `${a.namespace ?? ""}/${a.name}`;
  const kb = `${b.namespace ?? ""}/${b.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
