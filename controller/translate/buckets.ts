// Token buckets and weights, shared by the Meltemi and Aeraki readers.
import type { ObjectRef } from "../k8s/objects";
import type { Diagnostics } from "./diagnostics";
import { durationMs } from "./duration";
import { FILL_INTERVAL_RANGE, fillIntervalInRange } from "./fill_interval";
import type { FilterTokenBucket } from "./filter_config";

export function tokenBucketOf(
  b: { maxTokens?: number; tokensPerFill?: number; fillInterval: string },
  path: string,
  ref: ObjectRef,
  diags: Diagnostics,
): FilterTokenBucket | null {
  const ms = durationMs(b.fillInterval);
  if (typeof ms === "string") {
    diags.error(ref, "InvalidDuration", `fillInterval: ${ms}`, `${path}.fillInterval`);
    return null;
  }
  if (!fillIntervalInRange(ms)) {
    diags.error(ref, "InvalidDuration", `fillInterval must be ${FILL_INTERVAL_RANGE}, got ${b.fillInterval}`, `${path}.fillInterval`);
    return null;
  }
  if (b.maxTokens === undefined || b.maxTokens === 0) {
    diags.warn(ref, "EmptyBucket", "maxTokens is 0: every request this bucket applies to is rejected", `${path}.maxTokens`);
  }
  const bucket: FilterTokenBucket = { maxTokens: b.maxTokens ?? 0, fillIntervalMs: ms };
  if (b.tokensPerFill !== undefined && b.tokensPerFill > 0) bucket.tokensPerFill = b.tokensPerFill;
  return bucket;
}

/**
 * Destination weights: a lone destination gets its weight or 1; several destinations without any weight
 * share equally; otherwise a missing weight is 0. null when nothing can ever be picked (reported).
 */
export function resolveWeights(weights: (number | undefined)[], path: string, ref: ObjectRef, diags: Diagnostics): number[] | null {
  const resolved =
    weights.length === 1
      ? [weights[0] ?? 1]
      : weights.every((w) => w === undefined)
        ? weights.map(() => 1)
        : weights.map((w) => w ?? 0);
  if (resolved.every((w) => w === 0)) {
    diags.error(ref, "ZeroWeights", "every destination weight is 0: the route could never forward a request", path);
    return null;
  }
  return resolved;
}
