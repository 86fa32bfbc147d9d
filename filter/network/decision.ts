// What happens to one request, decided from its metadata in a fixed order:
// authorization (Unauthorized) -> local rate limit -> global rate limit (OverLimit) -> fault abort / delay -> route
// (NoRoute). The order follows Envoy's HTTP filter chain convention (RBAC before rate limit before
// fault before router), so a denied caller does not spend rate-limit tokens.
import { ErrorKind } from "../codec/codec";
import { Metadata } from "../codec/metadata";
import { FilterConfig } from "../config/config";
import { GLOBAL_FAIL_CLOSED_MESSAGE, GLOBAL_OVER_LIMIT_MESSAGE, GlobalAdmit, admitGlobal } from "../global/global_limit";
import { CasStore } from "../limit/cas_store";
import { Admit, TokenBucket } from "../limit/token_bucket";
import { Caller } from "../policy/authorization";
import { Fault, FaultDecision, decideFault } from "../policy/fault";
import { Random } from "../route/random";
import { Destination, Route } from "../route/route_table";

export enum Verdict { Forward, Reject }

export class Decision {
  verdict: Verdict = Verdict.Forward;
  kind: ErrorKind = ErrorKind.BadRequest;
  message: string = "";
  delayMs: u32 = 0;
  /** The matched route and its chosen destination; null when the config has no routes. */
  route: Route | null = null;
  destination: Destination | null = null;
  /** Set when a bucket's shared state stayed contended: the request was admitted anyway. */
  limiterContended: bool = false;

  reset(): void {
    this.verdict = Verdict.Forward;
    this.kind = ErrorKind.BadRequest;
    this.message = "";
    this.delayMs = 0;
    this.route = null;
    this.destination = null;
    this.limiterContended = false;
  }

  reject(kind: ErrorKind, message: string): void {
    this.verdict = Verdict.Reject;
    this.kind = kind;
    this.message = message;
  }
}

const faultScratch = new FaultDecision();

function bucketFor(config: FilterConfig, md: Metadata): TokenBucket | null {
  for (let i = 0; i < config.rateLimitConditions.length; i++) {
    const c = unchecked(config.rateLimitConditions[i]);
    if (c.match.matches(md)) return c.bucket;
  }
  return config.defaultBucket;
}

/**
 * Whether the limits may be drawn on for this frame. Lazy decode (Codec.lazy): a lookup may find the
 * frame's undecoded part invalid, and the filter then refuses the frame (network/connection.ts) as a
 * full decode would have before any decision. So that such a frame spends no token and counts no hit
 * (a full decode refuses it before the decision: a valid request must not miss its token for it), the
 * part any later lookup may need is decoded before the first draw. False: the frame is refused.
 */
function limitsMayDraw(config: FilterConfig, md: Metadata): bool {
  if (md.laterFailed) return false; // found by authorization's lookups
  if (!md.hasLater) return true;
  const keys = config.keysReadWithLimits;
  for (let i = 0; i < keys.length; i++) {
    if (md.mayDecodeFor(unchecked(keys[i]))) return md.complete();
  }
  return true;
}

export function decide(config: FilterConfig, md: Metadata, caller: Caller, store: CasStore, nowNs: u64, random: Random, out: Decision): void {
  out.reset();
  if (!config.authorizer.allows(md, caller)) {
    out.reject(ErrorKind.Unauthorized, "meltemi: unauthorized (" + config.authorizer.deniedBy + ")");
    return;
  }
  if (config.hasRateLimit && !limitsMayDraw(config, md)) return;
  const bucket = bucketFor(config, md);
  if (bucket !== null) {
    const admit = bucket.take(store, nowNs);
    if (admit == Admit.Limited) { out.reject(ErrorKind.OverLimit, "meltemi: rate limit exceeded"); return; }
    out.limiterContended = admit == Admit.Contended;
  }
  if (config.globalLimits.length > 0) {
    const g = admitGlobal(config.globalLimits, store, md, nowNs);
    if (g != GlobalAdmit.Admitted) { out.reject(ErrorKind.OverLimit, g == GlobalAdmit.FailClosed ? GLOBAL_FAIL_CLOSED_MESSAGE : GLOBAL_OVER_LIMIT_MESSAGE); return; }
  }
  if (config.faults.length > 0) {
    decideFault(config.faults, md, random, faultScratch);
    if (faultScratch.abort) { out.reject(ErrorKind.FaultAbort, (faultScratch.fault as Fault).abortMessage); return; }
    out.delayMs = faultScratch.delayMs;
  }
  if (config.routes.routes.length == 0) return;
  const route = config.routes.match(md);
  if (route === null) { out.reject(ErrorKind.NoRoute, "meltemi: no route"); return; }
  out.route = route;
  out.destination = route.pick(md, random);
  if (out.destination === null) out.reject(ErrorKind.NoRoute, "meltemi: route " + route.name + " has no destination with weight");
}
