// Every adaptive limiter of a snapshot, for the engine: Slime's SmartLimiters of Meltemi services (a
// SmartLimiter of an HTTP service is Slime's business: Meltemi neither queries metrics for it nor writes
// its status), and RpcRateLimits with `adaptive`. Read with their own diagnostics; the translation
// reports problems on the objects.
import { rpcRateLimit } from "../api/schema/rpc_rate_limit";
import type { RpcRateLimitObject } from "../api/types";
import { resolveHost } from "../discovery/hosts";
import { discoverServices } from "../discovery/services";
import { refOf } from "../k8s/objects";
import type { AdaptiveLimiter } from "./adaptive_limiter";
import { Diagnostics } from "./diagnostics";
import { adaptiveOfRpcRateLimit } from "./rate_limit_adaptive";
import { checkMeltemiObject } from "./schema_check";
import { readSmartLimiter } from "./smart_limiter";
import type { Snapshot } from "./snapshot";

export function adaptiveLimitersOf(snapshot: Snapshot, clusterDomain = "cluster.local"): AdaptiveLimiter[] {
  const diags = new Diagnostics();
  const out: AdaptiveLimiter[] = [];
  const meltemiHosts = new Set(discoverServices(snapshot.services, snapshot.serviceEntries, clusterDomain, diags).map((s) => s.host));
  for (const sl of snapshot.smartLimiters) {
    const l = readSmartLimiter(sl, clusterDomain, diags);
    if (l && meltemiHosts.has(l.host)) out.push(l);
  }
  for (const rl of snapshot.rpcRateLimits as RpcRateLimitObject[]) {
    const spec = rl.spec;
    if (!spec?.adaptive || checkMeltemiObject(rpcRateLimit, rl).errors.length > 0) continue;
    const ns = rl.metadata.namespace ?? "default";
    const l = adaptiveOfRpcRateLimit(refOf(rl), ns, resolveHost(spec.host, ns, clusterDomain), spec.port, spec.adaptive, diags);
    if (l) out.push(l);
  }
  return out;
}
