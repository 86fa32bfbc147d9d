// The translation of an RpcRateLimit into a rate-limit intent (token buckets of the serving proxies).
import { rpcRateLimit } from "../api/schema/rpc_rate_limit";
import type { RpcRateLimitObject } from "../api/types";
import { resolveHost } from "../discovery/hosts";
import { refOf } from "../k8s/objects";
import { tokenBucketOf } from "./buckets";
import type { Diagnostics } from "./diagnostics";
import type { FilterLocalRateLimit, FilterMatch, FilterTokenBucket } from "./filter_config";
import type { RateLimitIntent } from "./intent";
import { fromMeltemiMatch } from "./match";
import type { TranslateOptions } from "./options";
import { checkMeltemiObject } from "./schema_check";

export function readRpcRateLimit(obj: RpcRateLimitObject, options: TranslateOptions, diags: Diagnostics): RateLimitIntent | null {
  const ref = refOf(obj);
  const report = checkMeltemiObject(rpcRateLimit, obj);
  if (report.errors.length > 0) {
    diags.error(ref, "InvalidSpec", report.errors.join("; "));
    return null;
  }
  for (const f of report.unknownFields) diags.warn(ref, "UnknownField", `${f}: ignored`);
  const spec = obj.spec!;
  const ns = obj.metadata.namespace ?? "default";
  const local: FilterLocalRateLimit = {};
  let ok = true;
  if (spec.local.tokenBucket) {
    const b = tokenBucketOf(spec.local.tokenBucket, "spec.local.tokenBucket", ref, diags);
    if (b) local.tokenBucket = b;
    else ok = false;
  }
  const conditions: { match: FilterMatch; tokenBucket: FilterTokenBucket }[] = [];
  (spec.local.conditions ?? []).forEach((c, i) => {
    const path = `spec.local.conditions[${i}]`;
    const match = fromMeltemiMatch(c.match, `${path}.match`, ref, diags);
    const bucket = tokenBucketOf(c.tokenBucket, `${path}.tokenBucket`, ref, diags);
    if (match === null || bucket === null) {
      ok = false;
      return;
    }
    conditions.push({ match: match ?? {}, tokenBucket: bucket });
  });
  if (!ok) return null;
  if (conditions.length > 0) local.conditions = conditions;
  const intent: RateLimitIntent = { source: ref, host: resolveHost(spec.host, ns, options.clusterDomain), localRateLimit: local };
  if (spec.port !== undefined) intent.port = spec.port;
  return intent;
}
