// The translation of an RpcRateLimit into a rate-limit intent (token buckets of the serving proxies):
// its fixed `local` buckets, and the buckets its `adaptive` block has in force (resolved by the adaptive
// engine, handed in through the snapshot), adaptive ones first.
import { rpcRateLimit } from "../api/schema/rpc_rate_limit";
import type { RpcRateLimitObject } from "../api/types";
import { resolveHost } from "../discovery/hosts";
import { refOf } from "../k8s/objects";
import { adaptiveRateLimitIntent, reportNoEngine } from "./adaptive_intent";
import { limiterKey, type ResolvedSets } from "./adaptive_limiter";
import { tokenBucketOf } from "./buckets";
import type { Diagnostics } from "./diagnostics";
import type { FilterLocalRateLimit, FilterMatch, FilterTokenBucket } from "./filter_config";
import type { RateLimitIntent } from "./intent";
import { fromMeltemiMatch } from "./match";
import type { TranslateOptions } from "./options";
import { adaptiveOfRpcRateLimit } from "./rate_limit_adaptive";
import { checkMeltemiObject } from "./schema_check";
import { refuseUnknownFields } from "./unknown_fields";

export function readRpcRateLimit(
  obj: RpcRateLimitObject,
  options: TranslateOptions,
  diags: Diagnostics,
  adaptiveQuotas?: ReadonlyMap<string, ResolvedSets>,
): RateLimitIntent | null {
  const ref = refOf(obj);
  const report = checkMeltemiObject(rpcRateLimit, obj);
  if (report.errors.length > 0) {
    diags.error(ref, "InvalidSpec", report.errors.join("; "));
    return null;
  }
  if (refuseUnknownFields(report.unknownFields, "", "RpcRateLimit", ref, diags)) return null;
  const spec = obj.spec!;
  const ns = obj.metadata.namespace ?? "default";
  const host = resolveHost(spec.host, ns, options.clusterDomain);
  const local: FilterLocalRateLimit = {};
  let ok = true;
  if (spec.local?.tokenBucket) {
    const b = tokenBucketOf(spec.local.tokenBucket, "spec.local.tokenBucket", ref, diags);
    if (b) local.tokenBucket = b;
    else ok = false;
  }
  const conditions: { match: FilterMatch; tokenBucket: FilterTokenBucket }[] = [];
  (spec.local?.conditions ?? []).forEach((c, i) => {
    const path = `spec.local.conditions[${i}]`;
    const match = fromMeltemiMatch(c.match, `${path}.match`, ref, diags);
    const bucket = tokenBucketOf(c.tokenBucket, `${path}.tokenBucket`, ref, diags);
    if (match === null || bucket === null) {
      ok = false;
      return;
    }
    conditions.push({ match: match ?? {}, tokenBucket: bucket });
  });
  if (conditions.length > 0) local.conditions = conditions;
  let merged = local;
  let subsets: RateLimitIntent["subsets"];
  if (spec.adaptive) {
    const limiter = adaptiveOfRpcRateLimit(ref, ns, host, spec.port, spec.adaptive, diags);
    if (!limiter) ok = false;
    else {
      reportNoEngine(limiter, adaptiveQuotas, diags);
      const adaptiveIntent = adaptiveRateLimitIntent(limiter, adaptiveQuotas?.get(limiterKey(ref)), diags);
      const adaptive = adaptiveIntent.localRateLimit ?? {};
      subsets = adaptiveIntent.subsets;
      merged = {};
      const conds = [...(adaptive.conditions ?? []), ...(local.conditions ?? [])];
      if (conds.length > 0) merged.conditions = conds;
      const fallback = adaptive.tokenBucket ?? local.tokenBucket;
      if (fallback) merged.tokenBucket = fallback;
    }
  }
  if (!ok) return null;
  const intent: RateLimitIntent = { source: ref, host, localRateLimit: merged };
  if (spec.port !== undefined) intent.port = spec.port;
  if (subsets) intent.subsets = subsets;
  return intent;
}
