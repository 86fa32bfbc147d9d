// From an adaptive limiter and the quotas the engine put in force to the translation's rate-limit
// intent: the `_base` set's descriptors become the token buckets of every serving proxy of the service;
// each DestinationRule subset set gets buckets of its own, for the pods of that subset only.
import { localRateLimitOf, shadowedDescriptors } from "./adaptive_buckets";
import { BASE_SET, type AdaptiveLimiter, type ResolvedSets } from "./adaptive_limiter";
import type { Diagnostics } from "./diagnostics";
import type { RateLimitIntent } from "./intent";

/**
 * Without an engine (`meltemi render`, or the controller without --prometheus-url) no adaptive quota
 * is ever in force: the object must not read Ready, and render must not print `localRateLimit: {}`
 * without a word.
 */
export function reportNoEngine(limiter: AdaptiveLimiter, quotas: ReadonlyMap<string, ResolvedSets> | undefined, diags: Diagnostics): void {
  if (quotas !== undefined) return;
  diags.degrade(
    limiter.source,
    "QuotasAtRuntime",
    "adaptive quotas are computed at runtime by `meltemi controller --prometheus-url` (from the metrics and the ready pods); none is in force in this output (its localRateLimit carries none of them)",
  );
}

export function adaptiveRateLimitIntent(limiter: AdaptiveLimiter, quotas: ResolvedSets | undefined, diags: Diagnostics): RateLimitIntent {
  const inForce = (set: string) => {
    const list = quotas?.get(set) ?? [];
    for (const path of shadowedDescriptors(list)) {
      diags.warn(limiter.source, "ShadowedDescriptor", "an earlier descriptor without a match already limits every request; this one never applies", path);
    }
    return localRateLimitOf(list);
  };
  const intent: RateLimitIntent = { source: limiter.source, host: limiter.host, localRateLimit: inForce(BASE_SET) };
  const subsets = limiter.sets.filter((s) => s.name !== BASE_SET).map((s) => ({ name: s.name, localRateLimit: inForce(s.name) }));
  if (subsets.length > 0) intent.subsets = subsets;
  if (limiter.port !== undefined) intent.port = limiter.port;
  return intent;
}
