// Every adaptive limiter of a snapshot, for the engine: Slime's SmartLimiters (and RpcRateLimits with
// `adaptive`). Read with their own diagnostics; the translation reports problems on the objects.
import { Diagnostics } from "../translate/diagnostics";
import type { Snapshot } from "../translate/snapshot";
import type { AdaptiveLimiter } from "./limiter";
import { readSmartLimiter } from "./smart_limiter";

export function adaptiveLimitersOf(snapshot: Snapshot, clusterDomain = "cluster.local"): AdaptiveLimiter[] {
  const diags = new Diagnostics();
  const out: AdaptiveLimiter[] = [];
  for (const sl of snapshot.smartLimiters) {
    const l = readSmartLimiter(sl, clusterDomain, diags);
    if (l) out.push(l);
  }
  return out;
}
