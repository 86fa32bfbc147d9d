// Reporting to the rate limit service on the root's tick (docs/global-rate-limit.md "Reporting"): for
// each global limit, the descriptor values this VM knows whose report is due (global_record.ts isDue)
// and whose lease it wins go in one ShouldRateLimit, each with its own hits_addend (0: a question).
// The lease in each record makes one report per value per proxy and interval, whichever of the
// proxy's VMs (a root per worker and one on the main thread) ticks first. The answer, or the call's
// failure, comes back to the root that called, under the call's token.
import { CasStore } from "../limit/cas_store";
import { GlobalLimit, KnownValue } from "./global_limit";
import { GlobalRecord, RECORD_BYTES } from "./global_record";
import { globalStats } from "./global_stats";
import { Code, MAX_STATUSES, ProtoWriter, RateLimitAnswer, RequestDescriptor, Unit, decodeRateLimitResponse, encodeRateLimitRequest } from "./rls_proto";

const MAX_CAS_RETRIES: i32 = 16;
/** Records one tick reads per limit (each a shared-data read); the rest wait for the next tick. */
const MAX_SCANNED_PER_TICK: i32 = 256;
/**
 * The largest request: MAX_STATUSES descriptors of a few entries. Metadata values are bounded by
 * limits.maxMetadataValueBytes, but a request is not worth sending past this size: a report that does
 * not fit is cut to the descriptors that do.
 */
const MAX_REQUEST_BYTES: u32 = 64 << 10;

/** Sends a report; returns the call's token, or -1 when the host refused the call. */
export abstract class GrpcSender {
  abstract send(limit: GlobalLimit, requestPtr: usize, requestLen: u32): i64;
}

class Report {
  constructor(public readonly limit: GlobalLimit, public readonly values: Array<KnownValue>, public readonly owner: u64) {}
}

/** Reports in flight, by root context id and token (tokens are per root in Envoy). */
const inFlight = new Map<u64, Report>();
const writer = new ProtoWriter(MAX_REQUEST_BYTES);
const answer = new RateLimitAnswer();
const record = new GlobalRecord();
const scratch: usize = heap.alloc(RECORD_BYTES);
/** This VM's lease owner ids: a per-VM random part (set on the first report) and a sequence. */
let ownerBase: u64 = 0;
let ownerSeq: u32 = 0;

function callKey(rootId: u32, token: u32): u64 { return (<u64>rootId << 32) | <u64>token; }

export function reportsInFlight(): i32 { return inFlight.size; }

/**
 * Sets the VM's part of the lease owner ids, once: the VMs of a proxy run the same code from the same
 * memory image, so it comes from the clock at the VM's first tick (plugin.ts), mixed so that nearby
 * times differ in the high bits that are kept.
 */
export function seedOwner(seed: u64): void {
  if (ownerBase != 0) return;
  let x = seed ^ 0x9e3779b97f4a7c15;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  x ^= x >> 31;
  ownerBase = x & 0xffffffff00000000;
  if (ownerBase == 0) ownerBase = <u64>1 << 32;
}

/** Takes the lease of a due record; false when it is not due or another VM won it. */
function tryLease(store: CasStore, limit: GlobalLimit, k: KnownValue, now: u64, owner: u64): bool {
  for (let attempt = 0; attempt < MAX_CAS_RETRIES; attempt++) {
    const cas = store.read(k.recordKey, scratch, RECORD_BYTES);
    if (cas < 0) return false; // no request created it on this proxy yet
    record.load(scratch);
    if (!record.isDue(now, limit.intervalNs, limit.failAfterNs)) return false;
    record.takeLease(now, owner, limit.leaseNs);
    record.save(scratch);
    if (store.write(k.recordKey, scratch, <u32>cas, RECORD_BYTES)) return true;
  }
  return false;
}

/** Applies `apply` to a record this report holds the lease of, with CAS retries. */
function update(store: CasStore, k: KnownValue, apply: (r: GlobalRecord, i: i32) => bool, i: i32): void {
  for (let attempt = 0; attempt < MAX_CAS_RETRIES; attempt++) {
    const cas = store.read(k.recordKey, scratch, RECORD_BYTES);
    if (cas < 0) return;
    record.load(scratch);
    if (!apply(record, i)) return; // the lease is someone else's now: nothing of ours to apply
    record.save(scratch);
    if (store.write(k.recordKey, scratch, <u32>cas, RECORD_BYTES)) return;
  }
}

// The state of the update being applied (closures cannot capture locals in AssemblyScript).
let applyOwner: u64 = 0;
let applyNow: u64 = 0;

function applyAnswer(r: GlobalRecord, i: i32): bool {
  const code = <Code><i32>unchecked(answer.codes[i]);
  // A status code UNKNOWN leaves the record without a verdict: the fail mode applies to it.
  const ok = r.answered(applyOwner, applyNow, code, unchecked(answer.hasLimit[i]), unchecked(answer.requestsPerUnit[i]),
    <Unit><i32>unchecked(answer.units[i]), unchecked(answer.remaining[i]), unchecked(answer.resetSeconds[i]));
  if (ok && !unchecked(answer.hasLimit[i])) globalStats.unlimitedAnswers++;
  return ok;
}
function applyFailure(r: GlobalRecord, i: i32): bool { return r.failed(applyOwner, applyNow); }
function applyUnsent(r: GlobalRecord, i: i32): bool { return r.unsent(applyOwner, applyNow); }

/** The tick: one report per limit with due values, unless this VM's previous one is still in flight. */
export function reportDue(rootId: u32, limits: Array<GlobalLimit>, store: CasStore, now: u64, sender: GrpcSender): void {
  for (let l = 0; l < limits.length; l++) {
    const limit = unchecked(limits[l]);
    if (limit.inFlightToken >= 0) {
      // Envoy ends every call (answer, or close at its timeout). One never ended would stop this VM's
      // reports for the limit for good: after twice its lease it is given up (the records' leases have
      // expired by then, so other VMs report meanwhile).
      if (now - limit.inFlightSince < 2 * limit.leaseNs) continue;
      inFlight.delete(callKey(rootId, <u32>limit.inFlightToken));
      limit.inFlightToken = -1;
      globalStats.reportsFailed++;
    }
    if (limit.knownList.length == 0) continue;
    const owner = ownerBase | <u64>(++ownerSeq);
    const values: Array<KnownValue> = [];
    const descriptors: Array<RequestDescriptor> = [];
    const n = limit.knownList.length;
    const scan = n < MAX_SCANNED_PER_TICK ? n : MAX_SCANNED_PER_TICK;
    let scanned = 0;
    for (; scanned < scan && values.length < MAX_STATUSES; scanned++) {
      const k = unchecked(limit.knownList[(limit.cursor + scanned) % n]);
      if (!tryLease(store, limit, k, now, owner)) continue;
      const d = new RequestDescriptor();
      for (let e = 0; e < limit.entries.length; e++) {
        d.keys.push(unchecked(limit.entries[e]).keyUtf8);
        d.values.push(unchecked(k.values[e]));
      }
      d.hitsAddend = record.inFlight;
      values.push(k);
      descriptors.push(d);
    }
    limit.cursor = (limit.cursor + scanned) % n;
    if (values.length == 0) continue;
    applyOwner = owner;
    applyNow = now;
    if (!encodeRateLimitRequest(writer, limit.domainUtf8, descriptors)) {
      globalStats.reportsUnsent++;
      for (let i = 0; i < values.length; i++) update(store, unchecked(values[i]), applyUnsent, i);
      continue;
    }
    const token = sender.send(limit, writer.buffer, writer.pos);
    if (token < 0) {
      globalStats.reportsUnsent++;
      for (let i = 0; i < values.length; i++) update(store, unchecked(values[i]), applyUnsent, i);
      continue;
    }
    limit.inFlightToken = token;
    limit.inFlightSince = now;
    inFlight.set(callKey(rootId, <u32>token), new Report(limit, values, owner));
  }
}

function take(rootId: u32, token: u32): Report | null {
  const key = callKey(rootId, token);
  if (!inFlight.has(key)) return null;
  const report = inFlight.get(key);
  inFlight.delete(key);
  if (report.limit.inFlightToken == <i64>token) report.limit.inFlightToken = -1;
  return report;
}

function fail(report: Report, store: CasStore, now: u64): void {
  globalStats.reportsFailed++;
  applyOwner = report.owner;
  applyNow = now;
  for (let i = 0; i < report.values.length; i++) update(store, unchecked(report.values[i]), applyFailure, i);
}

/**
 * The service's answer to a report (proxy_on_grpc_receive). One status per descriptor, in order; an
 * answer that does not decode, has another number of statuses or an overall code UNKNOWN is a failure.
 * Returns false when the token is not a report of ours.
 */
export function onReportAnswer(rootId: u32, token: u32, ptr: usize, len: u32, store: CasStore, now: u64): bool {
  const report = take(rootId, token);
  if (report === null) return false;
  decodeRateLimitResponse(ptr, len, answer);
  if (!answer.ok || answer.count != report.values.length || answer.overallCode == Code.Unknown) {
    fail(report, store, now);
    return true;
  }
  globalStats.reportsOk++;
  applyOwner = report.owner;
  applyNow = now;
  for (let i = 0; i < report.values.length; i++) update(store, unchecked(report.values[i]), applyAnswer, i);
  return true;
}

/** A report ended without an answer (proxy_on_grpc_close: a gRPC error status, the timeout). */
export function onReportClosed(rootId: u32, token: u32, store: CasStore, now: u64): bool {
  const report = take(rootId, token);
  if (report === null) return false;
  fail(report, store, now);
  return true;
}
