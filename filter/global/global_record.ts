// The proxy-wide state of one descriptor value of a global limit (docs/global-rate-limit.md "The
// filter"): a fixed-size record in shared data, updated with compare-and-swap by every worker VM, so
// that the workers of a proxy admit from one count and one report per proxy and interval goes to the
// rate limit service. The rules on it are pure functions of the record and the time, unit-tested in
// __tests__/global_record.spec.ts; global_limit.ts does the reads and writes.
import { Code, Unit } from "./rls_proto";

export const RECORD_BYTES: u32 = 80;

export enum Outcome {
  /** Within what the service said is left: admitted and counted for the next report. */
  Admit,
  /** Over the limit (the service's verdict, or nothing left of its `remaining`). */
  OverLimit,
  /** No verdict (none yet, or the service failing longer than failAfter): the fail mode decides. */
  NoVerdict,
}

export class GlobalRecord {
  /** Hits admitted and not yet reported. */
  pending: u32 = 0;
  /** Hits of the report in flight (sent, not answered). */
  inFlight: u32 = 0;
  /** The service's limit_remaining at its last answer (after that report's hits). */
  remaining: u32 = 0;
  /** current_limit.requests_per_unit: what a new window allows. */
  limit: u32 = 0;
  verdict: Code = Code.Unknown;
  /** The service answered without current_limit: no limit of its configuration matches this value. */
  unlimited: bool = false;
  /** When the service's window of the last answer ends (wall clock, ns). */
  resetAt: u64 = 0;
  lastAnswerAt: u64 = 0;
  /** When the last report was sent (the lease was taken). */
  lastReportAt: u64 = 0;
  /** The report lease: held until this time by `leaseOwner` (0: free). */
  leaseUntil: u64 = 0;
  leaseOwner: u64 = 0;
  /** The last matched request seen since a report (admitted or not): asks for a verdict. */
  lastSeenAt: u64 = 0;
  lastFailAt: u64 = 0;

  clear(): void {
    this.pending = 0; this.inFlight = 0; this.remaining = 0; this.limit = 0;
    this.verdict = Code.Unknown; this.unlimited = false;
    this.resetAt = 0; this.lastAnswerAt = 0; this.lastReportAt = 0; this.leaseUntil = 0; this.leaseOwner = 0;
    this.lastSeenAt = 0; this.lastFailAt = 0;
  }

  load(p: usize): void {
    this.pending = load<u32>(p, 0);
    this.inFlight = load<u32>(p, 4);
    this.remaining = load<u32>(p, 8);
    this.limit = load<u32>(p, 12);
    this.verdict = <Code><i32>load<u8>(p, 16);
    this.unlimited = load<u8>(p, 17) != 0;
    this.resetAt = load<u64>(p, 24);
    this.lastAnswerAt = load<u64>(p, 32);
    this.lastReportAt = load<u64>(p, 40);
    this.leaseUntil = load<u64>(p, 48);
    this.leaseOwner = load<u64>(p, 56);
    this.lastSeenAt = load<u64>(p, 64);
    this.lastFailAt = load<u64>(p, 72);
  }

  save(p: usize): void {
    memory.fill(p, 0, RECORD_BYTES);
    store<u32>(p, this.pending, 0);
    store<u32>(p, this.inFlight, 4);
    store<u32>(p, this.remaining, 8);
    store<u32>(p, this.limit, 12);
    store<u8>(p, <u8>this.verdict, 16);
    store<u8>(p, this.unlimited ? 1 : 0, 17);
    store<u64>(p, this.resetAt, 24);
    store<u64>(p, this.lastAnswerAt, 32);
    store<u64>(p, this.lastReportAt, 40);
    store<u64>(p, this.leaseUntil, 48);
    store<u64>(p, this.leaseOwner, 56);
    store<u64>(p, this.lastSeenAt, 64);
    store<u64>(p, this.lastFailAt, 72);
  }

  /** Whether the verdict may be used: there is one, and the service has not been failing for failAfter. */
  hasVerdict(now: u64, failAfterNs: u64): bool {
    if (this.verdict == Code.Unknown) return false;
    return !(this.lastFailAt > this.lastAnswerAt && now - this.lastAnswerAt > failAfterNs);
  }

  /**
   * The admission rule. The service's `remaining` already counts every report it has answered; the
   * hits in flight and those admitted since are not in it yet, hence pending + inFlight < remaining
   * (with one proxy this is exact). Once the answer's window has ended, a new window allows `limit`.
   */
  outcome(now: u64, failAfterNs: u64): Outcome {
    if (!this.hasVerdict(now, failAfterNs)) return Outcome.NoVerdict;
    if (this.unlimited) return Outcome.Admit;
    const windowOver = now >= this.resetAt;
    if (this.verdict == Code.OverLimit && !windowOver) return Outcome.OverLimit;
    const left: u64 = windowOver ? this.limit : this.remaining;
    return <u64>this.pending + <u64>this.inFlight < left ? Outcome.Admit : Outcome.OverLimit;
  }

  /**
   * Whether a request seen now must be noted (lastSeenAt) so that the next tick asks for a verdict. A
   * sighting at the report's own time counts as after it (a clock can give both the same reading).
   */
  needsSighting(): bool {
    return this.lastSeenAt < this.lastReportAt;
  }

  /**
   * Whether a report is due: the lease is free, the last report is (about) an interval old, and there are hits
   * to report, or requests were seen since the last report and the verdict is an interval old (a
   * question, hits_addend 0). Questions go on during a known OVER_LIMIT window too: without them a
   * service that stops then fails no report until the window ends, so its last verdict stays in force
   * past failAfter and the next window admits on it (fail closed admitted calls without a verdict).
   */
  isDue(now: u64, intervalNs: u64, failAfterNs: u64): bool {
    if (this.leaseUntil > now) return false;
    // A fifth of an interval early still counts: ticks come a timer's jitter apart, and a tick just short
    // of the interval would otherwise leave the report for the next one (2 T apart, seen in Envoy).
    if (this.lastReportAt != 0 && now - this.lastReportAt < intervalNs - intervalNs / 5) return false;
    if (this.pending > 0) return true;
    if (this.lastSeenAt < this.lastReportAt) return false;
    return this.lastAnswerAt == 0 || now - this.lastAnswerAt >= intervalNs;
  }

  /**
   * Takes the report lease: the pending hits become the report's. An expired lease's hits in flight are
   * dropped (that report may have been counted: at most once undercounts rather than doubles).
   */
  takeLease(now: u64, owner: u64, leaseNs: u64): void {
    this.inFlight = this.pending;
    this.pending = 0;
    this.lastReportAt = now;
    this.leaseUntil = now + leaseNs;
    this.leaseOwner = owner;
  }

  private release(): void {
    this.inFlight = 0;
    this.leaseUntil = 0;
    this.leaseOwner = 0;
  }

  /** The report could not be sent (the call failed at once): its hits go back to pending. */
  unsent(owner: u64, now: u64): bool {
    if (this.leaseOwner != owner) return false;
    this.pending += this.inFlight;
    this.release();
    this.lastFailAt = now;
    return true;
  }

  /** The report failed (gRPC error, timeout, bad answer): the verdict stays until failAfter. */
  failed(owner: u64, now: u64): bool {
    if (this.leaseOwner != owner) return false;
    this.release();
    this.lastFailAt = now;
    return true;
  }

  /** The service's answer to `owner`'s report; a late answer to an expired lease is ignored. */
  answered(owner: u64, now: u64, code: Code, hasLimit: bool, requestsPerUnit: u32, unit: Unit, remaining: u32, resetSeconds: u64): bool {
    if (this.leaseOwner != owner) return false;
    this.release();
    this.verdict = code;
    this.unlimited = !hasLimit;
    this.limit = requestsPerUnit;
    this.remaining = remaining;
    this.resetAt = windowEnd(unit, this.lastReportAt, resetSeconds);
    this.lastAnswerAt = now;
    return true;
  }
}

const SECOND_NS: u64 = 1_000_000_000;

/**
 * The end of the service's window that counted a report sent at `sentAt`. The service's windows are
 * calendar windows of Unix time (a Redis key per window start) and its duration_until_reset is whole
 * seconds (always 1 for a per-second limit), so the end is computed from the unit and the wall clock
 * (Envoy's proxy_get_current_time_nanoseconds is wall time); from the send time, not the answer's, so
 * that an answer arriving just after a window boundary is not taken for the next window's.
 */
export function windowEnd(unit: Unit, sentAt: u64, resetSeconds: u64): u64 {
  let unitNs: u64 = 0;
  if (unit == Unit.Second) unitNs = SECOND_NS;
  else if (unit == Unit.Minute) unitNs = 60 * SECOND_NS;
  else if (unit == Unit.Hour) unitNs = 3600 * SECOND_NS;
  else if (unit == Unit.Day) unitNs = 86400 * SECOND_NS;
  if (unitNs == 0) return sentAt + resetSeconds * SECOND_NS;
  return (sentAt / unitNs + 1) * unitNs;
}
