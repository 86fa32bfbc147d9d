// The `adaptive` block of Meltemi's RpcRateLimit as an adaptive limiter (the same engine as Slime's
// SmartLimiter; Meltemi's field names: descriptors, fillInterval as a duration, match as a map).
import type { RpcRateLimitAdaptive } from "../api/types";
import type { ObjectRef } from "../k8s/objects";
import type { AdaptiveDescriptor, AdaptiveLimiter } from "./adaptive_limiter";
import type { Diagnostics } from "./diagnostics";
import { durationMs } from "./duration";
import { FILL_INTERVAL_RANGE, fillIntervalInRange } from "./fill_interval";
import { fromMeltemiMatch } from "./match";

/** `host` is the resolved FQDN; the service name is its first label (the Service of a cluster host). */
export function adaptiveOfRpcRateLimit(ref: ObjectRef, namespace: string, host: string, port: number | undefined, adaptive: RpcRateLimitAdaptive, diags: Diagnostics): AdaptiveLimiter | null {
  const limiter: AdaptiveLimiter = { source: ref, namespace, service: host.split(".")[0]!, host, sets: [] };
  if (port !== undefined) limiter.port = port;
  let ok = true;
  for (const name of Object.keys(adaptive.sets).sort()) {
    const descriptors: AdaptiveDescriptor[] = [];
    adaptive.sets[name]!.descriptors.forEach((d, i) => {
      const path = `spec.adaptive.sets.${name}.descriptors[${i}]`;
      const ms = durationMs(d.fillInterval);
      if (typeof ms === "string" || !fillIntervalInRange(ms)) {
        diags.error(ref, "InvalidDuration", `fillInterval must be ${FILL_INTERVAL_RANGE}, got ${d.fillInterval}`, `${path}.fillInterval`);
        ok = false;
        return;
      }
      const match = fromMeltemiMatch(d.match, `${path}.match`, ref, diags);
      if (match === null) {
        ok = false;
        return;
      }
      const descriptor: AdaptiveDescriptor = { condition: d.condition, quota: d.quota, fillIntervalMs: ms, strategy: d.strategy ?? "single", path };
      if (match) descriptor.match = match;
      descriptors.push(descriptor);
    });
    limiter.sets.push({ name, descriptors });
  }
  return ok ? limiter : null;
}
