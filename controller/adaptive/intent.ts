// From an adaptive limiter and the quotas the engine put in force to the translation's rate-limit
// intent: the `_base` set's descriptors become the token buckets of the service's serving proxies.
import type { Diagnostics } from "../translate/diagnostics";
import type { RateLimitIntent } from "../translate/intent";
import { localRateLimitOf, shadowedDescriptors } from "./buckets";
import { BASE_SET, type AdaptiveLimiter, type ResolvedSets } from "./limiter";

export function adaptiveRateLimitIntent(limiter: AdaptiveLimiter, quotas: ResolvedSets | undefined, diags: Diagnostics): RateLimitIntent {
  for (const set of limiter.sets) {
    if (set.name !== BASE_SET && set.descriptors.length > 0) {
      diags.warn(
        limiter.source,
        "SubsetSetNotEnforced",
        `set "${set.name}": its metrics and quotas are resolved (status) but per-subset enforcement is not built yet; only _base is applied`,
        set.descriptors[0]!.path.replace(/\.descriptors?\[\d+\]$/, ""),
      );
    }
  }
  const base = quotas?.get(BASE_SET) ?? [];
  for (const path of shadowedDescriptors(base)) {
    diags.warn(limiter.source, "ShadowedDescriptor", "an earlier descriptor without a match already limits every request; this one never applies", path);
  }
  const intent: RateLimitIntent = { source: limiter.source, host: limiter.host, localRateLimit: localRateLimitOf(base) };
  if (limiter.port !== undefined) intent.port = limiter.port;
  return intent;
}
