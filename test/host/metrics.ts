// Envoy's stats store as far as Wasm metrics go: one stat per name for the whole proxy, whichever VM
// (worker) defines it, so N workers that define "x" all add to one counter. Each VM keeps its own
// metric ids (VmMetrics below), as Envoy's Wasm object does.
import { MetricType, WasmResult } from "./abi";

export interface Stat {
  readonly name: string;
  readonly type: MetricType;
  /** Counter or gauge value; gauges may go below 0 here (Envoy's uint64 gauge would wrap). */
  value: number;
  /** Every value recorded into a histogram, in order. */
  readonly recorded: number[];
}

export type MetricValue = number | number[];

export class MetricStore {
  private readonly stats = new Map<string, Stat>();

  /** The stat called `name`; null when that name already holds a stat of another type. */
  define(name: string, type: MetricType): Stat | null {
    const existing = this.stats.get(name);
    if (existing) return existing.type === type ? existing : null;
    const stat: Stat = { name, type, value: 0, recorded: [] };
    this.stats.set(name, stat);
    return stat;
  }

  /** A counter's or gauge's value, a histogram's recorded values; undefined when never defined. */
  get(name: string): MetricValue | undefined {
    const stat = this.stats.get(name);
    if (!stat) return undefined;
    return stat.type === MetricType.Histogram ? [...stat.recorded] : stat.value;
  }

  snapshot(): Record<string, MetricValue> {
    const out: Record<string, MetricValue> = {};
    for (const name of [...this.stats.keys()].sort()) out[name] = this.get(name)!;
    return out;
  }
}

// Envoy encodes the type in the low 2 bits of a metric id and counts each type up in steps of 4
// (source/extensions/common/wasm/wasm.h kMetricTypeMask / kMetricIdIncrement).
const TYPE_MASK = 0x3;
const ID_STEP = 4;

/** One VM's view of the store: its metric ids and the ABI rules of context.cc (define/increment/record/get). */
export class VmMetrics {
  private readonly byId = new Map<number, Stat>();
  private readonly lastId = [MetricType.Counter, MetricType.Gauge, MetricType.Histogram];

  constructor(private readonly store: MetricStore, private readonly warn: (message: string) => void) {}

  define(type: number, name: string): { result: WasmResult; id: number } {
    if (type > MetricType.Histogram) return { result: WasmResult.BadArgument, id: 0 };
    const stat = this.store.define(name, type);
    if (!stat) {
      this.warn(`define_metric: "${name}" already exists with another type; refused (Envoy would create a second stat)`);
      return { result: WasmResult.BadArgument, id: 0 };
    }
    this.lastId[type] += ID_STEP;
    const id = this.lastId[type];
    this.byId.set(id, stat);
    return { result: WasmResult.Ok, id };
  }

  increment(id: number, offset: bigint): WasmResult {
    const type = id & TYPE_MASK;
    if (type !== MetricType.Counter && type !== MetricType.Gauge) return WasmResult.BadArgument;
    const stat = this.byId.get(id);
    if (!stat) return WasmResult.NotFound;
    if (type === MetricType.Counter && offset <= 0n) return WasmResult.BadArgument; // counters only go up
    this.setValue(stat, stat.value + Number(offset));
    return WasmResult.Ok;
  }

  record(id: number, value: bigint): WasmResult {
    const stat = this.byId.get(id);
    if (!stat) return WasmResult.NotFound;
    const v = Number(BigInt.asUintN(64, value));
    if (stat.type === MetricType.Counter) this.setValue(stat, stat.value + v);
    else if (stat.type === MetricType.Gauge) this.setValue(stat, v);
    else stat.recorded.push(v);
    return WasmResult.Ok;
  }

  get(id: number): { result: WasmResult; value: bigint } {
    const type = id & TYPE_MASK;
    if (type !== MetricType.Counter && type !== MetricType.Gauge) return { result: WasmResult.BadArgument, value: 0n };
    const stat = this.byId.get(id);
    if (!stat) return { result: WasmResult.NotFound, value: 0n };
    return { result: WasmResult.Ok, value: BigInt(stat.value) };
  }

  private setValue(stat: Stat, value: number): void {
    if (value < 0 && stat.value >= 0) {
      this.warn(`gauge "${stat.name}" went below zero (${value}); Envoy's uint64 gauge would wrap around`);
    }
    stat.value = value;
  }
}
