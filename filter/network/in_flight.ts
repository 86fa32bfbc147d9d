// The requests of one connection that wait for their answer: request id -> when it arrived, its label set,
// its route's response mutation and, for a rejected request, the status decided in advance. The answer with
// the same id ends it (request telemetry, request_metrics.ts). A ring, oldest first: answers mostly come in
// order, so the match is usually the oldest entry and removing it is O(1); a client reusing an id (some
// Thrift clients send seqid 0 every time) is matched in order, and by method when the answer names one
// (indexOfAnswer). Bounded: at MAX_IN_FLIGHT the caller ends the oldest entry (requests that never get
// an answer, such as oneway calls sent as CALL, must not fill the table; oneway.ts).
import { owe } from "../abi/gc";
import { Mutation } from "../codec/codec";
import { LabelSet } from "../telemetry/request_metrics";

export const MAX_IN_FLIGHT: i32 = 4096;

export class InFlight {
  private ids: StaticArray<i64> = new StaticArray<i64>(16);
  private starts: StaticArray<u64> = new StaticArray<u64>(16);
  private sets: StaticArray<LabelSet | null> = new StaticArray<LabelSet | null>(16);
  private statuses: StaticArray<u8> = new StaticArray<u8>(16);
  /** The destination cluster, for the access log ("" when none). */
  private clusters: StaticArray<string | null> = new StaticArray<string | null>(16);
  /** The route's response mutation, applied to the answer (null: none). */
  private mutations: StaticArray<Mutation | null> = new StaticArray<Mutation | null>(16);
  private head: i32 = 0;
  private count: i32 = 0;

  get size(): i32 { return this.count; }

  @inline private slot(i: i32): i32 { return (this.head + i) & (this.ids.length - 1); }

  add(id: i64, startNs: u64, set: LabelSet, status: u8, cluster: string = "", mutation: Mutation | null = null): bool {
    if (this.count >= MAX_IN_FLIGHT) return false;
    if (this.count == this.ids.length) this.grow();
    const s = this.slot(this.count++);
    unchecked(this.ids[s] = id);
    unchecked(this.starts[s] = startNs);
    unchecked(this.sets[s] = set);
    unchecked(this.statuses[s] = status);
    unchecked(this.clusters[s] = cluster);
    unchecked(this.mutations[s] = mutation);
    return true;
  }

  /** Position (0 = oldest) of the oldest entry with `id`, or -1. */
  indexOf(id: i64): i32 {
    for (let i = 0; i < this.count; i++) if (unchecked(this.ids[this.slot(i)]) == id) return i;
    return -1;
  }

  /**
   * The entry an answer with `id` ends: the oldest with that id whose method is the answer's
   * [methodPtr, +methodLen) (a Thrift reply names its method), else the oldest with that id; -1: none.
   */
  indexOfAnswer(id: i64, methodPtr: usize, methodLen: u32, named: bool): i32 {
    const first = this.indexOf(id);
    if (first < 0 || !named || unchecked(this.sets[this.slot(first)] as LabelSet).sameMethod(methodPtr, methodLen)) return first;
    for (let i = first + 1; i < this.count; i++) {
      const s = this.slot(i);
      if (unchecked(this.ids[s]) == id && (unchecked(this.sets[s]) as LabelSet).sameMethod(methodPtr, methodLen)) return i;
    }
    return first;
  }

  get full(): bool { return this.count >= MAX_IN_FLIGHT; }

  idAt(i: i32): i64 { return unchecked(this.ids[this.slot(i)]); }
  startAt(i: i32): u64 { return unchecked(this.starts[this.slot(i)]); }
  setAt(i: i32): LabelSet { return unchecked(this.sets[this.slot(i)]) as LabelSet; }
  statusAt(i: i32): u8 { return unchecked(this.statuses[this.slot(i)]); }
  clusterAt(i: i32): string { const c = unchecked(this.clusters[this.slot(i)]); return c !== null ? c : ""; }
  mutationAt(i: i32): Mutation | null { return unchecked(this.mutations[this.slot(i)]); }

  /** Forgets entry i, keeping the order of the others. */
  remove(i: i32): void {
    if (i == 0) {
      unchecked(this.sets[this.head] = null);
      unchecked(this.mutations[this.head] = null);
      this.head = this.slot(1);
      this.count--;
      return;
    }
    for (let j = i; j < this.count - 1; j++) {
      const to = this.slot(j);
      const from = this.slot(j + 1);
      unchecked(this.ids[to] = unchecked(this.ids[from]));
      unchecked(this.starts[to] = unchecked(this.starts[from]));
      unchecked(this.sets[to] = unchecked(this.sets[from]));
      unchecked(this.statuses[to] = unchecked(this.statuses[from]));
      unchecked(this.clusters[to] = unchecked(this.clusters[from]));
      unchecked(this.mutations[to] = unchecked(this.mutations[from]));
    }
    this.count--;
    unchecked(this.sets[this.slot(this.count)] = null);
    unchecked(this.mutations[this.slot(this.count)] = null);
  }

  private grow(): void {
    // The old arrays are garbage: id, start, set, status, cluster, mutation per entry (abi/gc.ts).
    owe(<u64>this.ids.length * (8 + 8 + 4 + 1 + 4 + 4));
    const n = this.ids.length * 2;
    const ids = new StaticArray<i64>(n);
    const starts = new StaticArray<u64>(n);
    const sets = new StaticArray<LabelSet | null>(n);
    const statuses = new StaticArray<u8>(n);
    const clusters = new StaticArray<string | null>(n);
    const mutations = new StaticArray<Mutation | null>(n);
    for (let i = 0; i < this.count; i++) {
      const s = this.slot(i);
      unchecked(ids[i] = unchecked(this.ids[s]));
      unchecked(starts[i] = unchecked(this.starts[s]));
      unchecked(sets[i] = unchecked(this.sets[s]));
      unchecked(statuses[i] = unchecked(this.statuses[s]));
      unchecked(clusters[i] = unchecked(this.clusters[s]));
      unchecked(mutations[i] = unchecked(this.mutations[s]));
    }
    this.ids = ids;
    this.starts = starts;
    this.sets = sets;
    this.statuses = statuses;
    this.clusters = clusters;
    this.mutations = mutations;
    this.head = 0;
  }
}
