// What the VMs of one Envoy process share: shared data (with CAS), shared queues, the stats store, and
// (for determinism) a virtual clock. Give the same SharedState to several WasmHost instances to emulate
// Envoy's worker threads, each with its own VM.
//
// Semantics from proxy-wasm-cpp-host src/shared_data.cc and src/shared_queue.cc:
// - data is keyed (vm_id, key); a set with cas == 0 always writes, a set with a cas that is not the
//   current one is CasMismatch; every write takes a new process-wide cas (never 0); get of a missing key
//   is NotFound;
// - a queue is keyed (vm_id, name); registering again keeps the token and the pending items but moves
//   on_queue_ready to the new registrant (the last one wins); enqueue posts on_queue_ready to the
//   registrant's thread, so here it runs after the current host operation has finished.
import { WasmResult } from "./abi";
import { MetricStore } from "./metrics";

/** A worker VM as the shared state sees it: something with timers and queue callbacks. */
export interface Worker {
  /** Earliest tick due time of its root contexts (virtual ns), or null. */
  nextTickDue(): bigint | null;
  /** Fires on_tick for every root context due at the current time. */
  fireDueTicks(): void;
}

export interface QueueOwner {
  queueReady(rootId: number, token: number): void;
}

interface Queue {
  readonly items: Buffer[];
  owner: QueueOwner;
  ownerRootId: number;
}

export interface SharedStateOptions {
  /** Start of the virtual clock, in ms since the epoch. Default: 2024-01-01T00:00:00Z. */
  now?: number;
}

const DEFAULT_START_MS = Date.UTC(2024, 0, 1);

export class SharedState {
  readonly metrics = new MetricStore();
  private nowNs: bigint;
  private readonly data = new Map<string, Map<string, { value: Buffer; cas: number }>>();
  private nextCas = 1;
  private readonly queueTokens = new Map<string, number>();
  private readonly queues = new Map<number, Queue>();
  private nextQueueToken = 1;
  private nextConnectionIdValue = 1n;
  private readonly workers: Worker[] = [];
  private readonly posted: Array<() => void> = [];
  private depth = 0;

  constructor(options: SharedStateOptions = {}) {
    this.nowNs = msToNs(options.now ?? DEFAULT_START_MS);
  }

  /** Virtual time in ms since the epoch. */
  get now(): number {
    return Number(this.nowNs / 1_000_000n);
  }

  get nowNanos(): bigint {
    return this.nowNs;
  }

  /** Moves the clock without firing ticks (e.g. to start a test at a chosen time). */
  setNow(ms: number): void {
    this.nowNs = msToNs(ms);
  }

  /**
   * Advances the virtual clock by `ms`, firing every tick that falls due on the way, in time order,
   * on every worker. Like Envoy, a timer is re-armed for one period after its on_tick returns.
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`advance(${ms}): ms must be >= 0`);
    const target = this.nowNs + msToNs(ms);
    this.run(() => {
      for (;;) {
        let next: { worker: Worker; due: bigint } | null = null;
        for (const worker of this.workers) {
          const due = worker.nextTickDue();
          if (due !== null && due <= target && (next === null || due < next.due)) next = { worker, due };
        }
        if (next === null) break;
        if (next.due > this.nowNs) this.nowNs = next.due;
        next.worker.fireDueTicks();
        this.drainPosted();
      }
      this.nowNs = target;
    });
  }

  // ---- shared data ----

  getSharedData(key: string, vmId = ""): { value: Buffer; cas: number } | undefined {
    const entry = this.data.get(vmId)?.get(key);
    return entry ? { value: Buffer.from(entry.value), cas: entry.cas } : undefined;
  }

  setSharedData(key: string, value: Uint8Array | string, cas = 0, vmId = ""): WasmResult {
    let map = this.data.get(vmId);
    if (!map) this.data.set(vmId, (map = new Map()));
    const existing = map.get(key);
    if (existing && cas !== 0 && cas !== existing.cas) return WasmResult.CasMismatch;
    map.set(key, { value: Buffer.from(value), cas: this.takeCas() });
    return WasmResult.Ok;
  }

  // ---- shared queues ----

  registerQueue(vmId: string, name: string, owner: QueueOwner, ownerRootId: number): number {
    const key = queueKey(vmId, name);
    let token = this.queueTokens.get(key);
    if (token === undefined) {
      token = this.nextQueueToken++;
      this.queueTokens.set(key, token);
      this.queues.set(token, { items: [], owner, ownerRootId });
    }
    const queue = this.queues.get(token)!;
    queue.owner = owner;
    queue.ownerRootId = ownerRootId;
    return token;
  }

  /** The queue's token, or 0 when nobody registered it. */
  resolveQueue(vmId: string, name: string): number {
    return this.queueTokens.get(queueKey(vmId, name)) ?? 0;
  }

  enqueue(token: number, data: Uint8Array): WasmResult {
    const queue = this.queues.get(token);
    if (!queue) return WasmResult.NotFound;
    queue.items.push(Buffer.from(data));
    const { owner, ownerRootId } = queue;
    this.post(() => owner.queueReady(ownerRootId, token));
    return WasmResult.Ok;
  }

  dequeue(token: number): { result: WasmResult; data?: Buffer } {
    const queue = this.queues.get(token);
    if (!queue) return { result: WasmResult.NotFound };
    const data = queue.items.shift();
    return data ? { result: WasmResult.Ok, data } : { result: WasmResult.Empty };
  }

  // ---- used by WasmHost ----

  /** @internal Envoy's connection ids are process-wide. */
  nextConnectionId(): bigint {
    return this.nextConnectionIdValue++;
  }

  /** @internal */
  attach(worker: Worker): void {
    this.workers.push(worker);
  }

  /** @internal */
  detach(worker: Worker): void {
    const i = this.workers.indexOf(worker);
    if (i >= 0) this.workers.splice(i, 1);
  }

  /** @internal Work that Envoy would post to a worker's dispatcher: runs after the current operation. */
  post(task: () => void): void {
    this.posted.push(task);
    if (this.depth === 0) this.drainPosted();
  }

  /** @internal Runs one host operation; posted work runs when the outermost one returns normally. */
  run<T>(operation: () => T): T {
    this.depth++;
    let ok = false;
    try {
      const result = operation();
      ok = true;
      return result;
    } finally {
      this.depth--;
      if (ok && this.depth === 0) this.drainPosted();
    }
  }

  private drainPosted(): void {
    while (this.posted.length > 0) {
      const task = this.posted.shift()!;
      this.depth++;
      try {
        task();
      } finally {
        this.depth--;
      }
    }
  }

  private takeCas(): number {
    const cas = this.nextCas;
    this.nextCas = (this.nextCas + 1) >>> 0 || 1; // 0 means "no CAS" in the ABI
    return cas;
  }
}

function msToNs(ms: number): bigint {
  return BigInt(Math.round(ms * 1_000_000));
}

function queueKey(vmId: string, name: string): string {
  return `${vmId}\0${name}`;
}
