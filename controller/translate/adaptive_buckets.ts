// The quotas in force for one set, as the filter's token buckets (filter-config.schema.json
// localRateLimit). As Slime's local limits: a quota of N per fill interval is a bucket of N tokens
// refilled with N tokens every interval. A descriptor with a metadata match becomes a condition (first
// match wins, in the order written); the first descriptor without one is the default bucket, and later
// ones without a match could never apply (reported by the caller via shadowedDescriptors).
import type { ResolvedDescriptor } from "./adaptive_limiter";
import type { FilterLocalRateLimit, FilterTokenBucket } from "./filter_config";

/** The filter's bucket size is a u32 (filter-config.schema.json tokenBucket.maxTokens). */
const MAX_TOKENS = 4294967295;

function bucketOf(d: ResolvedDescriptor): FilterTokenBucket {
  const quota = Math.min(d.quota, MAX_TOKENS);
  const bucket: FilterTokenBucket = { maxTokens: quota, fillIntervalMs: d.fillIntervalMs };
  if (quota > 0) bucket.tokensPerFill = quota;
  return bucket;
}

export function localRateLimitOf(descriptors: readonly ResolvedDescriptor[]): FilterLocalRateLimit {
  const out: FilterLocalRateLimit = {};
  for (const d of descriptors) {
    if (d.match) (out.conditions ??= []).push({ match: d.match, tokenBucket: bucketOf(d) });
    else if (!out.tokenBucket) out.tokenBucket = bucketOf(d);
  }
  return out;
}

/** Paths of descriptors without a match after the first one: the default bucket is already taken. */
export function shadowedDescriptors(descriptors: readonly ResolvedDescriptor[]): string[] {
  return descriptors.filter((d) => !d.match).slice(1).map((d) => d.path);
}
