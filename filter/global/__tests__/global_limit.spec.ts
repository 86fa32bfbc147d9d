// The global limits' admission and reporting (global_limit.ts, global_reporter.ts) on an in-memory CAS
// store with the rules of Envoy's shared data, a fake gRPC sender, and answers built from the .proto
// field numbers: several "workers" (configurations parsed separately, as each VM does) share one store.
import { mdOf } from "../../__tests__/metadata.include";
import { parseConfig, FilterConfig } from "../../config/config";
import { MemoryCasStore } from "../../limit/cas_store";
import { GlobalAdmit, GlobalLimit, admitGlobal } from "../global_limit";
import { GrpcSender, onReportAnswer, onReportClosed, reportDue, reportsInFlight, seedOwner } from "../global_reporter";
import { globalStats } from "../global_stats";
import { Code, ProtoWriter, Unit } from "../rls_proto";

const MS: u64 = 1_000_000;
const SECOND: u64 = 1000 * MS;
/** A time well inside a second (the service's windows are calendar seconds). */
const T0: u64 = 1_700_000_000 * SECOND + 100 * MS;

function configWith(failMode: string): FilterConfig {
  return parseConfig('{"version":1,"name":"g","globalLimits":[{"domain":"d","cluster":"rls","reportIntervalMs":100,"timeoutMs":50,' +
    '"failMode":"' + failMode + '","match":{"interface":{"exact":"Greeter"}},"entries":[{"key":"method","metadata":"method"}]}]}').config!;
}

class Sent {
  constructor(public token: i64, public bytes: StaticArray<u8>) {}
}

class FakeSender extends GrpcSender {
  sent: Array<Sent> = [];
  next: i64 = 1;
  refuse: bool = false;
  send(limit: GlobalLimit, ptr: usize, len: u32): i64 {
    if (this.refuse) return -1;
    const copy = new StaticArray<u8>(<i32>len);
    memory.copy(changetype<usize>(copy), ptr, len);
    const token = this.next++;
    this.sent.push(new Sent(token, copy));
    return token;
  }
  last(): Sent { return this.sent[this.sent.length - 1]; }
}

let at: i32 = 0;
function varintAt(bytes: StaticArray<u8>): u64 {
  let v: u64 = 0;
  let shift: u64 = 0;
  while (true) {
    const b = <u64>bytes[at++];
    v |= (b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
    shift += 7;
  }
  return v;
}

/** The hits_addend of each descriptor of a RateLimitRequest (-1: no wrapper). */
function hitsOf(bytes: StaticArray<u8>): Array<i64> {
  const out: Array<i64> = [];
  at = 0;
  while (at < bytes.length) {
    const key = <u32>varintAt(bytes);
    const len = <i32>varintAt(bytes);
    if (key >> 3 != 2) { at += len; continue; }
    const end = at + len;
    let hits: i64 = -1;
    while (at < end) {
      const k = <u32>varintAt(bytes);
      const l = <i32>varintAt(bytes);
      if (k >> 3 == 3) {
        hits = 0;
        if (l > 0) { at++; hits = <i64>varintAt(bytes); }
      } else at += l;
    }
    out.push(hits);
  }
  return out;
}

/** RateLimitResponse{overall, statuses[{code, current_limit{rpu, unit}?, remaining}]}. */
function answerBytes(overall: Code, codes: Array<Code>, remaining: Array<u32>, rpu: u32, unit: Unit, withLimit: bool = true): StaticArray<u8> {
  const status = new ProtoWriter(64);
  const limit = new ProtoWriter(16);
  const w = new ProtoWriter(1024);
  w.tag(1, 0); w.varint(<u64>overall);
  for (let i = 0; i < codes.length; i++) {
    limit.reset(); limit.tag(1, 0); limit.varint(rpu); limit.tag(2, 0); limit.varint(<u64>unit);
    status.reset(); status.tag(1, 0); status.varint(<u64>codes[i]);
    if (withLimit) status.bytes(2, limit.buffer, limit.pos);
    if (remaining[i] > 0) { status.tag(3, 0); status.varint(remaining[i]); }
    w.bytes(2, status.buffer, status.pos);
  }
  const out = new StaticArray<u8>(<i32>w.pos);
  memory.copy(changetype<usize>(out), w.buffer, w.pos);
  return out;
}

function answer(rootId: u32, token: i64, bytes: StaticArray<u8>, store: MemoryCasStore, now: u64): bool {
  return onReportAnswer(rootId, <u32>token, changetype<usize>(bytes), <u32>bytes.length, store, now);
}

const greeter = mdOf(["interface", "Greeter", "method", "sayHello"]);
const other = mdOf(["interface", "Other", "method", "sayHello"]);
const noMethod = mdOf(["interface", "Greeter"]);

function admitted(c: FilterConfig, store: MemoryCasStore, n: i32, now: u64): i32 {
  let a = 0;
  for (let i = 0; i < n; i++) if (admitGlobal(c.globalLimits, store, greeter, now) == GlobalAdmit.Admitted) a++;
  return a;
}

describe("global limits", () => {
  it("fail open: admits before a verdict, reports those hits, then admits exactly what the service said is left", () => {
    seedOwner(12345);
    globalStats.clear();
    const store = new MemoryCasStore();
    const c = configWith("open");
    const sender = new FakeSender();
    expect(admitted(c, store, 3, T0)).toBe(3);
    expect(globalStats.failOpenAdmitted).toBe(3);
    reportDue(1, c.globalLimits, store, T0 + 1 * MS, sender);
    expect(sender.sent.length).toBe(1);
    expect(hitsOf(sender.last().bytes)).toStrictEqual([3]);
    // Admitted while the report is in flight: counted for the next one.
    expect(admitted(c, store, 1, T0 + 2 * MS)).toBe(1);
    expect(answer(1, sender.last().token, answerBytes(Code.Ok, [Code.Ok], [4], 10, Unit.Second), store, T0 + 3 * MS)).toBe(true);
    expect(reportsInFlight()).toBe(0);
    // remaining 4 after the 3 reported; 1 pending: 3 more.
    expect(admitted(c, store, 10, T0 + 4 * MS)).toBe(3);
    expect(globalStats.overLimitRejected).toBe(7);
    // Not due before an interval has passed since the last report.
    reportDue(1, c.globalLimits, store, T0 + 50 * MS, sender);
    expect(sender.sent.length).toBe(1);
    reportDue(1, c.globalLimits, store, T0 + 101 * MS, sender);
    expect(hitsOf(sender.last().bytes)).toStrictEqual([4]);
    expect(answer(1, sender.last().token, answerBytes(Code.Ok, [Code.Ok], [0], 10, Unit.Second), store, T0 + 102 * MS)).toBe(true);
    expect(admitted(c, store, 5, T0 + 103 * MS)).toBe(0);
    // The service's window ends at the next whole second: a new window allows the limit (10).
    expect(admitted(c, store, 15, T0 + SECOND)).toBe(10);
  });

  it("other requests and requests without the descriptor's metadata are not counted", () => {
    const store = new MemoryCasStore();
    const c = configWith("closed");
    expect(admitGlobal(c.globalLimits, store, other, T0)).toBe(GlobalAdmit.Admitted);
    expect(admitGlobal(c.globalLimits, store, noMethod, T0)).toBe(GlobalAdmit.Admitted);
    expect(c.globalLimits[0].knownList.length).toBe(0);
  });

  it("fail closed: rejects before a verdict and asks at once (hits_addend 0)", () => {
    globalStats.clear();
    const store = new MemoryCasStore();
    const c = configWith("closed");
    const sender = new FakeSender();
    expect(admitted(c, store, 2, T0)).toBe(0);
    expect(globalStats.failClosedRejected).toBe(2);
    reportDue(1, c.globalLimits, store, T0 + MS, sender);
    expect(hitsOf(sender.last().bytes)).toStrictEqual([0]);
    answer(1, sender.last().token, answerBytes(Code.Ok, [Code.Ok], [2], 5, Unit.Second), store, T0 + 2 * MS);
    expect(admitted(c, store, 5, T0 + 3 * MS)).toBe(2);
  });

  it("workers share one record: one report per interval whoever ticks, each worker's admissions in it", () => {
    const store = new MemoryCasStore();
    const w1 = configWith("open");
    const w2 = configWith("open");
    const s1 = new FakeSender();
    const s2 = new FakeSender();
    expect(admitted(w1, store, 2, T0)).toBe(2);
    expect(admitted(w2, store, 3, T0)).toBe(3);
    reportDue(1, w2.globalLimits, store, T0 + MS, s2);
    reportDue(1, w1.globalLimits, store, T0 + MS, s1);
    expect(s2.sent.length).toBe(1);
    expect(s1.sent.length).toBe(0); // the lease is w2's
    expect(hitsOf(s2.last().bytes)).toStrictEqual([5]);
    answer(1, s2.last().token, answerBytes(Code.Ok, [Code.Ok], [1], 6, Unit.Second), store, T0 + 2 * MS);
    // Both workers see the answer (one record): one more in all.
    expect(admitted(w1, store, 1, T0 + 3 * MS) + admitted(w2, store, 1, T0 + 3 * MS)).toBe(1);
  });

  it("a failed report keeps the verdict for three intervals, then the fail mode; an answer restores it", () => {
    globalStats.clear();
    const store = new MemoryCasStore();
    const c = configWith("closed");
    const sender = new FakeSender();
    admitted(c, store, 1, T0);
    reportDue(1, c.globalLimits, store, T0, sender);
    answer(1, sender.last().token, answerBytes(Code.Ok, [Code.Ok], [100], 100, Unit.Minute), store, T0 + MS);
    expect(admitted(c, store, 1, T0 + 2 * MS)).toBe(1);
    reportDue(1, c.globalLimits, store, T0 + 100 * MS, sender);
    expect(onReportClosed(1, <u32>sender.last().token, store, T0 + 110 * MS)).toBe(true);
    expect(globalStats.reportsFailed).toBe(1);
    expect(admitted(c, store, 1, T0 + 200 * MS)).toBe(1); // within 3 intervals of the last answer
    expect(admitted(c, store, 1, T0 + 400 * MS)).toBe(0); // the service failing longer: fail closed
    reportDue(1, c.globalLimits, store, T0 + 400 * MS, sender);
    // The hits of the failed report are not sent again (at most once); the one admitted since is.
    expect(hitsOf(sender.last().bytes)).toStrictEqual([1]);
    answer(1, sender.last().token, answerBytes(Code.Ok, [Code.Ok], [50], 100, Unit.Minute), store, T0 + 410 * MS);
    expect(admitted(c, store, 1, T0 + 411 * MS)).toBe(1);
  });

  it("OVER_LIMIT rejects until its window ends, and asks meanwhile (a stopped service is noticed within failAfter)", () => {
    const store = new MemoryCasStore();
    const c = configWith("open");
    const sender = new FakeSender();
    admitted(c, store, 1, T0);
    reportDue(1, c.globalLimits, store, T0, sender);
    answer(1, sender.last().token, answerBytes(Code.OverLimit, [Code.OverLimit], [0], 1, Unit.Second), store, T0 + MS);
    expect(admitted(c, store, 3, T0 + 2 * MS)).toBe(0);
    reportDue(1, c.globalLimits, store, T0 + 200 * MS, sender);
    expect(sender.sent.length).toBe(2);
    expect(admitted(c, store, 3, T0 + 300 * MS)).toBe(0);
    expect(admitted(c, store, 3, T0 + SECOND)).toBe(1);
  });

  it("an answer without current_limit (no limit configured for the value) admits everything, counted", () => {
    globalStats.clear();
    const store = new MemoryCasStore();
    const c = configWith("closed");
    const sender = new FakeSender();
    admitted(c, store, 1, T0);
    reportDue(1, c.globalLimits, store, T0, sender);
    answer(1, sender.last().token, answerBytes(Code.Ok, [Code.Ok], [0], 0, Unit.Unknown, false), store, T0 + MS);
    expect(globalStats.unlimitedAnswers).toBe(1);
    expect(admitted(c, store, 50, T0 + 2 * MS)).toBe(50);
  });

  it("a report Envoy never ends is given up after twice its lease, and this VM reports again", () => {
    const store = new MemoryCasStore();
    const c = configWith("open");
    const sender = new FakeSender();
    admitted(c, store, 1, T0);
    reportDue(1, c.globalLimits, store, T0, sender);
    admitted(c, store, 1, T0 + 10 * MS);
    reportDue(1, c.globalLimits, store, T0 + 200 * MS, sender);
    expect(sender.sent.length).toBe(1); // still in flight (lease 50 + 100 ms, given up after 300 ms)
    reportDue(1, c.globalLimits, store, T0 + 301 * MS, sender);
    expect(sender.sent.length).toBe(2);
    expect(hitsOf(sender.last().bytes)).toStrictEqual([1]);
  });

  it("a report the host refuses gives its hits back; a malformed answer is a failure", () => {
    globalStats.clear();
    const store = new MemoryCasStore();
    const c = configWith("open");
    const sender = new FakeSender();
    sender.refuse = true;
    admitted(c, store, 2, T0);
    reportDue(1, c.globalLimits, store, T0, sender);
    expect(globalStats.reportsUnsent).toBe(1);
    sender.refuse = false;
    reportDue(1, c.globalLimits, store, T0 + 100 * MS, sender);
    expect(hitsOf(sender.last().bytes)).toStrictEqual([2]);
    const junk = new StaticArray<u8>(2);
    junk[0] = 0x12; junk[1] = 0x05; // a status whose length runs past the end
    expect(answer(1, sender.last().token, junk, store, T0 + 101 * MS)).toBe(true);
    expect(globalStats.reportsFailed).toBe(1);
    expect(answer(1, 999, junk, store, T0 + 102 * MS)).toBe(false); // not a report of ours
  });
});
