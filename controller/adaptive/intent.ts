// From an adaptive limiter and the quotas the engine put in force to the translation's rate-limit
// intent: the `_base` set's descriptors become the token buckets of every serving proxy of the service;
// each DestinationRule subset set gets buckets of its own, for the pods of that subset only.
import type { Diagnostics } from "../translate/diagnostics";
import type { RateLimitIntent } from "../translate/intent";
import { localRateLimitOf, shadowedDescriptors } from "./buckets";
import { BASE_SET, type AdaptiveLimiter, type ResolvedSets } from "./limiter";

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
