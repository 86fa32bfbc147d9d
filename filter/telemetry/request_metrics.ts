// Request telemetry with Istio-style labels: `meltemi_requests_total` and the histogram
// `meltemi_request_duration_milliseconds` by reporter, request_protocol, rpc_service, rpc_method and
// rpc_status (names with tags: tags.ts).
//
// Hot path: a request's (service, method) is interned into a LabelSet (a compare with the set the
// previous lookup found, else a hash of the metadata bytes and a compare; no allocation once the set
// exists); each LabelSet defines its metric ids the first time a status is seen and keeps them, so a
// request costs one histogram record, and its counter increment is added up with the others of the
// same callback (batchRequestCounts).
// Cardinality is bounded: after `maxLabelSets` distinct (service, method) pairs in a VM, every new pair
// is counted under rpc_service = rpc_method = "_overflow" (a client sending random method names cannot
// create unbounded stats in Envoy). The bound is per VM (one per worker); Envoy's stats are per proxy.
import { owe } from "../abi/gc";
import { MetricType, defineMetric, incrementMetric, recordMetric } from "../abi/host";
import { ErrorKind, errorKindName } from "../codec/codec";
import { KEY_METHOD, Metadata } from "../codec/metadata";
import { UNKNOWN, labelValue } from "./label_value";
import { TAG_METHOD, TAG_PROTOCOL, TAG_REPORTER, TAG_SERVICE, TAG_STATUS, tag } from "./tags";
import { sameMemory } from "../codec/bytes";

export const REQUESTS_TOTAL = "meltemi_requests_total";
export const REQUEST_DURATION = "meltemi_request_duration_milliseconds";
export const OVERFLOW = "_overflow";

// rpc_status: how the request ended. ok / error: the upstream answered with a result / an error
// (Dubbo non-OK status or exception, Thrift exception); oneway: forwarded, no answer expected;
// unknown: not timed (too many in flight on the connection); otherwise the rejection reason.
export const STATUS_OK: u8 = 0;
export const STATUS_ERROR: u8 = 1;
export const STATUS_ONEWAY: u8 = 2;
export const STATUS_UNKNOWN: u8 = 3;
const STATUS_REJECTED: u8 = 4;
export const STATUS_COUNT: i32 = 9;
/** In-flight entries without a status decided in advance. */
export const STATUS_FROM_RESPONSE: u8 = 255;

export function rejectedStatus(kind: ErrorKind): u8 { return STATUS_REJECTED + <u8>kind; }

export function statusName(s: u8): string {
  if (s == STATUS_OK) return "ok";
  if (s == STATUS_ERROR) return "error";
  if (s == STATUS_ONEWAY) return "oneway";
  if (s == STATUS_UNKNOWN) return "unknown";
  return errorKindName(<ErrorKind>(s - STATUS_REJECTED));
}

const NOT_DEFINED: u32 = u32.MAX_VALUE - 1;

/**
 * Request counters are added up within one callback of a connection and handed to Envoy once per
 * label set and status when it ends (flushRequestCounts): a read that carries 16 answers costs one
 * increment host call, not 16. Envoy reads stats between a worker's callbacks, so the counts it sees
 * are the same. Outside such a callback (batching false) every count goes to Envoy at once.
 */
let batching = false;
/**
 * The label sets holding counts not yet handed to Envoy (each at most once): the first in a field, the
 * others in a list, so that the common callback (one method) pushes and clears no array.
 */
let firstUnflushed: LabelSet | null = null;
const moreUnflushed: Array<LabelSet> = [];

/** From here until flushRequestCounts(), request counts are held back (see `batching`). */
export function batchRequestCounts(): void {
  batching = true;
}

/** Hands the counts held back since batchRequestCounts() to Envoy, and stops holding them back. */
export function flushRequestCounts(): void {
  batching = false;
  const first = firstUnflushed;
  if (first === null) return;
  first.flush();
  firstUnflushed = null;
  if (moreUnflushed.length == 0) return;
  for (let i = 0; i < moreUnflushed.length; i++) unchecked(moreUnflushed[i]).flush();
  moreUnflushed.length = 0;
}

/** One (service, method) pair: its label prefix and, per status, its metric ids (defined lazily). */
export class LabelSet {
  private counters: StaticArray<u32> = new StaticArray<u32>(STATUS_COUNT);
  private durations: StaticArray<u32> = new StaticArray<u32>(STATUS_COUNT);
  /** Per status, requests counted but not yet handed to Envoy (see `batching`). */
  private held: StaticArray<u32> = new StaticArray<u32>(STATUS_COUNT);
  /** Bit s: held[s] > 0 (flush() visits only those statuses); 0: the set is not queued for a flush. */
  private heldStatuses: u32 = 0;
  /** What answers taught about this method: CALLS_UNKNOWN, CALLS_ONEWAY or CALLS_TWO_WAY (filter/network/oneway.ts). */
  calls: u8 = 0;

  constructor(
    readonly hash: u32,
    /** Raw key bytes: u32 service length, service bytes, method bytes. */
    readonly key: ArrayBuffer,
    /** `reporter=.=..;.;request_protocol=.=..;.;rpc_service=.=..;.;rpc_method=.=..;.;` */
    readonly labels: string,
    readonly service: string,
    readonly method: string,
  ) {
    for (let i = 0; i < STATUS_COUNT; i++) {
      unchecked(this.counters[i] = NOT_DEFINED);
      unchecked(this.durations[i] = NOT_DEFINED);
    }
  }

  /** Whether this set's method is the `len` bytes at `ptr`. */
  sameMethod(ptr: usize, len: u32): bool {
    const k = changetype<usize>(this.key);
    if (this.key.byteLength < 4) return false;
    const sLen = load<u32>(k);
    return <u32>this.key.byteLength == 4 + sLen + len && sameMemory(k + 4 + sLen, ptr, len);
  }

  /** Counts one request that ended with `status`; `durationNs` < 0: not timed. */
  record(status: u8, durationNs: i64): void {
    const s = <i32>status;
    let c = unchecked(this.counters[s]);
    if (c == NOT_DEFINED) {
      c = defineMetric(MetricType.Counter, tag(this.labels, TAG_STATUS, statusName(status)) + REQUESTS_TOTAL);
      unchecked(this.counters[s] = c);
    }
    if (batching) {
      unchecked(this.held[s] += 1);
      if (this.heldStatuses == 0) {
        if (firstUnflushed === null) firstUnflushed = this;
        else moreUnflushed.push(this);
      }
      this.heldStatuses |= 1 << s;
    } else {
      incrementMetric(c, 1);
    }
    if (durationNs < 0) return;
    let h = unchecked(this.durations[s]);
    if (h == NOT_DEFINED) {
      h = defineMetric(MetricType.Histogram, tag(this.labels, TAG_STATUS, statusName(status)) + REQUEST_DURATION);
      unchecked(this.durations[s] = h);
    }
    recordMetric(h, <u64>durationNs / 1_000_000);
  }

  /** Hands the counts held back to Envoy (flushRequestCounts). */
  flush(): void {
    let bits = this.heldStatuses;
    this.heldStatuses = 0;
    while (bits != 0) {
      const s = <i32>ctz(bits);
      bits &= bits - 1;
      const n = unchecked(this.held[s]);
      unchecked(this.held[s] = 0);
      incrementMetric(unchecked(this.counters[s]), <i64>n);
    }
  }
}

function fnv1a(h: u32, ptr: usize, len: u32): u32 {
  for (let i: u32 = 0; i < len; i++) h = (h ^ <u32>load<u8>(ptr + i)) * 16777619;
  return h;
}

const EMPTY = new ArrayBuffer(0);

/** The label sets of one plugin in one VM. */
export class RequestMetrics {
  private slots: StaticArray<LabelSet | null> = new StaticArray<LabelSet | null>(64);
  private size: i32 = 0;
  private base: string;
  /** The set the last lookup found: requests mostly repeat a method, so it is compared before hashing. */
  private last: LabelSet | null = null;
  readonly overflow: LabelSet;

  constructor(
    readonly reporter: string,
    readonly protocol: string,
    /** rpc_service when the frame names none (a plain Thrift call): the configuration's name. */
    readonly defaultService: string,
    readonly maxLabelSets: i32,
  ) {
    const base = tag(tag("", TAG_REPORTER, reporter), TAG_PROTOCOL, protocol.length > 0 ? protocol : UNKNOWN);
    this.overflow = new LabelSet(0, EMPTY, tag(tag(base, TAG_SERVICE, OVERFLOW), TAG_METHOD, OVERFLOW), OVERFLOW, OVERFLOW);
    this.base = base;
  }

  get labelSets(): i32 { return this.size; }

  /**
   * The label set of the request in `md` (interned; allocation only for a new pair). `serviceKey`: the
   * codec's (Codec.serviceKey), a field it decodes up front.
   */
  labelsFor(md: Metadata, serviceKey: ArrayBuffer): LabelSet {
    // Never a decode of the frame's rest (Metadata.indexOfDecodedKey): both are fields decoded up front.
    const si = md.indexOfDecodedKey(serviceKey);
    const mi = md.indexOf(KEY_METHOD);
    const sPtr = si >= 0 ? md.valuePtrAt(si) : 0;
    const sLen = si >= 0 ? md.valueLenAt(si) : 0;
    const mPtr = mi >= 0 ? md.valuePtrAt(mi) : 0;
    const mLen = mi >= 0 ? md.valueLenAt(mi) : 0;
    const last = this.last;
    if (last !== null && RequestMetrics.same(last.key, sPtr, sLen, mPtr, mLen)) return last;
    let h = fnv1a(2166136261, sPtr, sLen);
    h = fnv1a(h ^ 0xff, mPtr, mLen);

    const mask = this.slots.length - 1;
    let i = <i32>h & mask;
    while (true) {
      const e = unchecked(this.slots[i]);
      if (e === null) break;
      if (e.hash == h && RequestMetrics.same(e.key, sPtr, sLen, mPtr, mLen)) {
        this.last = e;
        return e;
      }
      i = (i + 1) & mask;
    }
    if (this.size >= this.maxLabelSets) return this.overflow;

    const key = new ArrayBuffer(<i32>(4 + sLen + mLen));
    const k = changetype<usize>(key);
    store<u32>(k, sLen);
    memory.copy(k + 4, sPtr, sLen);
    memory.copy(k + 4 + sLen, mPtr, mLen);
    const service = sLen > 0 ? labelValue(sPtr, sLen) : this.defaultService;
    const method = labelValue(mPtr, mLen);
    const set = new LabelSet(h, key, tag(tag(this.base, TAG_SERVICE, service), TAG_METHOD, method), service, method);
    unchecked(this.slots[i] = set);
    this.last = set;
    this.size++;
    if (this.size * 2 > this.slots.length) this.grow();
    return set;
  }

  private static same(key: ArrayBuffer, sPtr: usize, sLen: u32, mPtr: usize, mLen: u32): bool {
    const k = changetype<usize>(key);
    if (<u32>key.byteLength != 4 + sLen + mLen || load<u32>(k) != sLen) return false;
    return sameMemory(k + 4, sPtr, sLen) && sameMemory(k + 4 + sLen, mPtr, mLen);
  }

  private grow(): void {
    const old = this.slots;
    owe(<u64>old.length << 2); // the old table is garbage (abi/gc.ts)
    const next = new StaticArray<LabelSet | null>(old.length * 2);
    const mask = next.length - 1;
    for (let j = 0; j < old.length; j++) {
      const e = unchecked(old[j]);
      if (e === null) continue;
      let i = <i32>e.hash & mask;
      while (unchecked(next[i]) !== null) i = (i + 1) & mask;
      unchecked(next[i] = e);
    }
    this.slots = next;
  }
}
