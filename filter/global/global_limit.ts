// One global limit of the configuration (filter-config.schema.json globalLimits[]): which requests it
// counts (match), the descriptor it sends (entries: a key and where its value comes from), the service
// (domain, cluster), and the admission of a request against the proxy-wide record of its descriptor
// value (global_record.ts). What this VM has seen of the limit (its descriptor values) lives here too:
// a report is made by a VM that knows the value, so every value with admitted hits gets reported.
import { Metadata } from "../codec/metadata";
import { CasStore } from "../limit/cas_store";
import { MetadataMatch } from "../match/metadata_match";
import { GlobalRecord, Outcome, RECORD_BYTES } from "./global_record";
import { globalStats } from "./global_stats";
import { ProtoWriter } from "./rls_proto";

/** Distinct descriptor values one limit tracks per VM; beyond, the fail mode applies (and is counted). */
export const MAX_KNOWN_VALUES: i32 = 256;
const MAX_CAS_RETRIES: i32 = 16;

export enum GlobalAdmit { Admitted, OverLimit, FailClosed }

/** One descriptor entry: its key, and its value from the request's metadata or a fixed one. */
export class GlobalEntry {
  readonly keyUtf8: ArrayBuffer;
  readonly metadataKeyUtf8: ArrayBuffer;
  readonly fixedUtf8: ArrayBuffer;
  constructor(public readonly key: string, public readonly metadataKey: string, public readonly fixed: string) {
    this.keyUtf8 = String.UTF8.encode(key);
    this.metadataKeyUtf8 = String.UTF8.encode(metadataKey);
    this.fixedUtf8 = String.UTF8.encode(fixed);
  }
  get fromMetadata(): bool { return this.metadataKey.length > 0; }
}

/** A descriptor value this VM has seen: its shared-data key and the entries' values as sent. */
export class KnownValue {
  constructor(public readonly recordKey: ArrayBuffer, public readonly values: Array<ArrayBuffer>) {}
}

export class GlobalLimit {
  readonly domainUtf8: ArrayBuffer;
  /** envoy.config.core.v3.GrpcService { envoy_grpc (1) { cluster_name (1) } }, serialized for proxy_grpc_call. */
  readonly grpcService: ArrayBuffer;
  readonly intervalNs: u64;
  /** How long a verdict stays in force while reports fail (3 intervals). */
  readonly failAfterNs: u64;
  /** How long a report's lease lasts: its timeout and an interval of slack. */
  readonly leaseNs: u64;
  readonly entries: Array<GlobalEntry> = [];
  readonly known: Map<string, KnownValue> = new Map();
  readonly knownList: Array<KnownValue> = [];
  /** Where the next tick's scan of knownList starts (round robin when more are due than one report holds). */
  cursor: i32 = 0;
  /** This VM's report in flight for this limit (one at a time), or -1. */
  inFlightToken: i64 = -1;
  inFlightSince: u64 = 0;
  private keyPrefix: string = "";
  private readonly record: GlobalRecord = new GlobalRecord();
  private readonly scratch: usize = heap.alloc(RECORD_BYTES);

  constructor(
    public readonly index: i32,
    configName: string,
    public readonly domain: string,
    public readonly cluster: string,
    /** The call's timeout, at most the interval (so that a report is answered before the next: the bound). */
    public readonly timeoutMs: u32,
    public readonly reportIntervalMs: u32,
    public readonly failClosed: bool,
    public readonly match: MetadataMatch,
  ) {
    this.domainUtf8 = String.UTF8.encode(domain);
    this.grpcService = grpcServiceFor(cluster);
    this.intervalNs = <u64>reportIntervalMs * 1_000_000;
    this.failAfterNs = 3 * this.intervalNs;
    this.leaseNs = <u64>timeoutMs * 1_000_000 + this.intervalNs;
    // Shared-data keys are proxy-wide: the configuration name and the limit's index keep them apart.
    this.keyPrefix = "meltemi.grl/" + configName + "/" + index.toString() + "/";
  }

  addEntry(e: GlobalEntry): void { this.entries.push(e); }

  /**
   * The descriptor value of a request as a map key (entry values, length-prefixed so that no two
   * differ only in where one ends), or null when an entry's metadata is absent: then the limit does
   * not apply, as Envoy skips a descriptor one of whose actions has no value.
   */
  private valueKey(md: Metadata): string | null {
    let s = "";
    for (let i = 0; i < this.entries.length; i++) {
      const e = unchecked(this.entries[i]);
      if (!e.fromMetadata) continue;
      const at = md.indexOf(e.metadataKeyUtf8);
      if (at < 0) return null;
      const v = String.UTF8.decodeUnsafe(md.valuePtrAt(at), md.valueLenAt(at));
      s += v.length.toString() + ":" + v;
    }
    return s;
  }

  /** The value's entry, created on first sight; null when this VM tracks MAX_KNOWN_VALUES already. */
  private knownFor(key: string, md: Metadata): KnownValue | null {
    if (this.known.has(key)) return this.known.get(key);
    if (this.knownList.length >= MAX_KNOWN_VALUES) return null;
    const values: Array<ArrayBuffer> = [];
    for (let i = 0; i < this.entries.length; i++) {
      const e = unchecked(this.entries[i]);
      if (!e.fromMetadata) { values.push(e.fixedUtf8); continue; }
      const at = md.indexOf(e.metadataKeyUtf8);
      const copy = new ArrayBuffer(<i32>md.valueLenAt(at));
      memory.copy(changetype<usize>(copy), md.valuePtrAt(at), md.valueLenAt(at));
      values.push(copy);
    }
    const k = new KnownValue(String.UTF8.encode(this.keyPrefix + key), values);
    this.known.set(key, k);
    this.knownList.push(k);
    return k;
  }

  private noVerdict(): GlobalAdmit {
    if (this.failClosed) { globalStats.failClosedRejected++; return GlobalAdmit.FailClosed; }
    globalStats.failOpenAdmitted++;
    return GlobalAdmit.Admitted;
  }

  /**
   * Admits or rejects a request this limit's match holds for (hot path: one shared-data read, at most
   * one compare-and-swap write, more only when another worker wrote in between).
   */
  admit(store: CasStore, md: Metadata, now: u64): GlobalAdmit {
    const key = this.valueKey(md);
    if (key === null) return GlobalAdmit.Admitted;
    const known = this.knownFor(key, md);
    if (known === null) { globalStats.overflow++; return this.noVerdict(); }
    const r = this.record;
    for (let attempt = 0; attempt < MAX_CAS_RETRIES; attempt++) {
      const cas = store.read(known.recordKey, this.scratch, RECORD_BYTES);
      if (cas < 0) r.clear(); else r.load(this.scratch);
      const outcome = r.outcome(now, this.failAfterNs);
      const admit = outcome == Outcome.Admit || (outcome == Outcome.NoVerdict && !this.failClosed);
      const sight = r.needsSighting() || cas < 0;
      if (!admit && !sight) return this.result(outcome);
      if (admit) r.pending++;
      r.lastSeenAt = now;
      r.save(this.scratch);
      // CAS 0 is unconditional in Envoy: two workers creating the record at once may each count a hit
      // that the other's write loses (harmless: at creation only, an undercount of one).
      if (store.write(known.recordKey, this.scratch, cas < 0 ? 0 : <u32>cas, RECORD_BYTES)) return this.result(outcome);
      if (!admit) return this.result(outcome); // only a sighting: another worker wrote, it saw traffic too
    }
    // The record stayed contended: decide as without a verdict.
    return this.noVerdict();
  }

  private result(outcome: Outcome): GlobalAdmit {
    if (outcome == Outcome.Admit) return GlobalAdmit.Admitted;
    if (outcome == Outcome.OverLimit) { globalStats.overLimitRejected++; return GlobalAdmit.OverLimit; }
    return this.noVerdict();
  }
}

/** GrpcService { envoy_grpc (1) { cluster_name (1) } } (envoy/config/core/v3/grpc_service.proto). */
function grpcServiceFor(cluster: string): ArrayBuffer {
  const name = String.UTF8.encode(cluster);
  const inner = new ProtoWriter(<u32>name.byteLength + 8);
  inner.bytes(1, changetype<usize>(name), <u32>name.byteLength);
  const outer = new ProtoWriter(inner.pos + 8);
  outer.bytes(1, inner.buffer, inner.pos);
  const out = new ArrayBuffer(<i32>outer.pos);
  memory.copy(changetype<usize>(out), outer.buffer, outer.pos);
  heap.free(inner.buffer);
  heap.free(outer.buffer);
  return out;
}

export const GLOBAL_OVER_LIMIT_MESSAGE = "meltemi: global rate limit exceeded";
export const GLOBAL_FAIL_CLOSED_MESSAGE = "meltemi: global rate limit service unavailable";

/**
 * Every limit whose match holds counts the request (as the service counts every descriptor of a
 * request); the first that rejects decides. A limit rejecting after earlier ones admitted leaves their
 * hits counted, as the service does with a request over one of its descriptors' limits.
 */
export function admitGlobal(limits: Array<GlobalLimit>, store: CasStore, md: Metadata, now: u64): GlobalAdmit {
  for (let i = 0; i < limits.length; i++) {
    const limit = unchecked(limits[i]);
    if (!limit.match.matches(md)) continue;
    const r = limit.admit(store, md, now);
    if (r != GlobalAdmit.Admitted) return r;
  }
  return GlobalAdmit.Admitted;
}
