// The adaptive engine: each refresh reads the metrics every limiter's templates name, evaluates the
// conditions and quotas, and decides the quotas in force, with two brakes against flapping:
// - hysteresis: a condition that changes must read the same for `confirmations` refreshes in a row
//   before the limit is added or lifted, and a quota that moves by less than `quotaTolerance` (relative)
//   is left as it is;
// - a minimum update interval: the quotas of one limiter change at most once per `minUpdateIntervalMs`.
// When a metric cannot be read (Prometheus unreachable, slow, erroring, no data), nothing changes for
// that limiter: the last good quotas stay in force, the MetricsAvailable condition says why, and
// meltemi_adaptive_metric_failures_total{reason} counts it.
//
// The seam: input = limiters (from SmartLimiters / RpcRateLimits), a PodSource, a MetricSource and the
// clock; output = resolved quotas per limiter (for the translation) and status objects (for the
// runtime to write). No Kubernetes or Envoy I/O here.
import { BASE_SET, limiterKey, type AdaptiveDescriptor, type AdaptiveLimiter, type ResolvedDescriptor, type ResolvedSets } from "../translate/adaptive_limiter";
import { compileCondition, compileQuota, evaluate, evaluateQuota, ExpressionError, type Expression } from "./expression";
import { AdaptiveMetrics } from "./metrics";
import { MetricError, type MetricSource } from "./prometheus";
import { POD_COUNT, splitReference, substitute, type QueryTemplates } from "./queries";
import { metricStatus, ratelimitStatus, type AdaptiveCondition, type AdaptiveStatus } from "./status";

export interface PodSource {
  /** The ready pod names of one set of the limiter's service, or why they are not known. */
  podsOf(limiter: AdaptiveLimiter, set: string): string[] | string;
}

export interface EngineOptions {
  queries: QueryTemplates;
  /** Refreshes in a row a changed condition must hold before the limit follows (default 2). */
  confirmations?: number;
  /** Relative quota change ignored while the condition holds (default 0.1 = 10%). */
  quotaTolerance?: number;
  /** Least time between two quota changes of one limiter (default 0). */
  minUpdateIntervalMs?: number;
}

export interface LimiterResult {
  limiter: AdaptiveLimiter;
  quotas: ResolvedSets;
  status: AdaptiveStatus;
  /** The quotas in force changed in this refresh. */
  changed: boolean;
}

interface DescriptorState {
  /** In force now (published). */
  active: boolean;
  quota: number;
  /** The last evaluation's verdict and how many refreshes in a row gave it. */
  seen: boolean;
  seenCount: number;
}

interface LimiterState {
  descriptors: Map<string, DescriptorState>;
  values: Map<string, number>;
  lastChangeAt: number;
  published: ResolvedSets;
  everEvaluated: boolean;
}

type Compiled = { descriptor: AdaptiveDescriptor; set: string; id: string; condition?: Expression; quota?: Expression; error?: string };

export class AdaptiveEngine {
  readonly metrics: AdaptiveMetrics;
  private readonly states = new Map<string, LimiterState>();
  private readonly confirmations: number;
  private readonly tolerance: number;
  private readonly minUpdateIntervalMs: number;

  constructor(private readonly source: MetricSource, private readonly pods: PodSource, private readonly options: EngineOptions, metrics?: AdaptiveMetrics) {
    this.metrics = metrics ?? new AdaptiveMetrics();
    this.confirmations = Math.max(1, options.confirmations ?? 2);
    this.tolerance = Math.max(0, options.quotaTolerance ?? 0.1);
    this.minUpdateIntervalMs = Math.max(0, options.minUpdateIntervalMs ?? 0);
  }

  /** The quotas currently in force for a limiter (empty before its first good refresh). */
  quotasOf(limiter: AdaptiveLimiter): ResolvedSets {
    return this.states.get(limiterKey(limiter.source))?.published ?? new Map();
  }

  async refresh(limiters: readonly AdaptiveLimiter[], now: number): Promise<LimiterResult[]> {
    this.metrics.refreshes.inc();
    const live = new Set(limiters.map((l) => limiterKey(l.source)));
    for (const key of [...this.states.keys()]) if (!live.has(key)) this.states.delete(key);
    return Promise.all(limiters.map((l) => this.refreshOne(l, now)));
  }

  /**
   * Starts a limiter the engine has not seen from the quotas its status says are in force (the
   * `ratelimitStatus` a previous controller wrote), so that a restart or a new leader neither lifts
   * limits nor re-applies them only after `confirmations` refreshes. Status descriptors are matched to
   * the spec's by set, interval, strategy and match, in order. Returns the quotas seeded.
   */
  seed(limiter: AdaptiveLimiter, ratelimitStatus: unknown): ResolvedSets {
    const key = limiterKey(limiter.source);
    if (this.states.has(key)) return this.states.get(key)!.published;
    const state = this.stateOf(limiter);
    if (typeof ratelimitStatus !== "object" || ratelimitStatus === null) return state.published;
    const compiled = this.compileAll(limiter);
    for (const set of limiter.sets) {
      const entries = (ratelimitStatus as Record<string, { descriptor?: unknown }>)[set.name]?.descriptor;
      if (!Array.isArray(entries)) continue;
      const used = new Set<string>();
      for (const e of entries as { action?: { quota?: unknown; fill_interval?: { seconds?: unknown; nanos?: unknown }; strategy?: unknown }; match?: unknown }[]) {
        const quota = Number(e.action?.quota);
        const ms = Number(e.action?.fill_interval?.seconds ?? 0) * 1000 + Math.floor(Number(e.action?.fill_interval?.nanos ?? 0) / 1_000_000);
        if (!Number.isInteger(quota) || quota < 0) continue;
        const c = compiled.find((x) => x.set === set.name && !x.error && !used.has(x.id) && x.descriptor.fillIntervalMs === ms && x.descriptor.strategy === (e.action?.strategy ?? "single") && JSON.stringify(x.descriptor.match ?? null) === JSON.stringify(e.match ?? null));
        if (!c) continue;
        used.add(c.id);
        state.descriptors.set(c.id, { active: true, quota, seen: true, seenCount: this.confirmations });
        const r: ResolvedDescriptor = { quota, fillIntervalMs: ms, strategy: c.descriptor.strategy, path: c.descriptor.path };
        if (c.descriptor.match) r.match = c.descriptor.match;
        const list = state.published.get(set.name) ?? [];
        list.push(r);
        state.published.set(set.name, list);
      }
    }
    return state.published;
  }

  private stateOf(limiter: AdaptiveLimiter): LimiterState {
    const key = limiterKey(limiter.source);
    let s = this.states.get(key);
    if (!s) {
      s = { descriptors: new Map(), values: new Map(), lastChangeAt: -Infinity, published: new Map(), everEvaluated: false };
      this.states.set(key, s);
    }
    return s;
  }

  private compileAll(limiter: AdaptiveLimiter): Compiled[] {
    const out: Compiled[] = [];
    for (const set of limiter.sets) {
      for (const d of set.descriptors) {
        const c: Compiled = { descriptor: d, set: set.name, id: `${set.name}|${d.path}|${d.condition}|${d.quota}` };
        try {
          c.condition = compileCondition(d.condition);
          c.quota = compileQuota(d.quota);
          for (const ref of [...c.condition.metrics, ...c.quota.metrics]) {
            const split = splitReference(ref);
            if (!split) throw new ExpressionError(`{{.${ref}}} names no set; write {{.<set>.<metric>}}, e.g. {{._base.cpu.sum}}`);
            if (split.metric !== POD_COUNT && !this.options.queries.has(split.metric)) {
              throw new ExpressionError(`{{.${ref}}}: no query named "${split.metric}" is configured (known: ${[POD_COUNT, ...this.options.queries.keys()].join(", ")})`);
            }
          }
        } catch (err) {
          c.error = `${d.path}: ${(err as Error).message}`;
          delete c.condition;
          delete c.quota;
        }
        out.push(c);
      }
    }
    return out;
  }

  private async refreshOne(limiter: AdaptiveLimiter, now: number): Promise<LimiterResult> {
    const state = this.stateOf(limiter);
    const compiled = this.compileAll(limiter);
    const conditions: AdaptiveCondition[] = [];
    const templateErrors = compiled.filter((c) => c.error).map((c) => c.error!);

    // Metric values: the pod count of every set (and _base), and every query a template names.
    const values = new Map<string, number>();
    const podNames = new Map<string, string[]>();
    const failures: { reason: string; message: string }[] = [];
    const sets = new Set<string>([BASE_SET, ...limiter.sets.map((s) => s.name)]);
    for (const set of sets) {
      const pods = this.pods.podsOf(limiter, set);
      if (typeof pods === "string") {
        failures.push({ reason: "PodsUnknown", message: `${set}: ${pods}` });
        continue;
      }
      podNames.set(set, pods);
      values.set(`${set}.${POD_COUNT}`, pods.length);
    }
    const wanted = new Set<string>();
    for (const c of compiled) for (const e of [c.condition, c.quota]) for (const ref of e?.metrics ?? []) wanted.add(ref);
    await Promise.all(
      [...wanted].map(async (ref) => {
        const split = splitReference(ref)!;
        if (split.metric === POD_COUNT) {
          if (!podNames.has(split.set) && !sets.has(split.set)) {
            const pods = this.pods.podsOf(limiter, split.set);
            if (typeof pods === "string") failures.push({ reason: "PodsUnknown", message: `${split.set}: ${pods}` });
            else values.set(ref, pods.length);
          }
          return;
        }
        let pods = podNames.get(split.set);
        if (!pods) {
          const p = this.pods.podsOf(limiter, split.set);
          if (typeof p === "string") {
            failures.push({ reason: "PodsUnknown", message: `${split.set}: ${p}` });
            return;
          }
          pods = p;
        }
        const promql = substitute(this.options.queries.get(split.metric)!, { namespace: limiter.namespace, service: limiter.service, set: split.set, podNames: pods });
        try {
          values.set(ref, await this.source.query(promql));
        } catch (err) {
          const reason = err instanceof MetricError ? err.reason : "MetricQueryFailed";
          failures.push({ reason, message: `${ref}: ${(err as Error).message}` });
        }
      }),
    );
    for (const f of failures) this.metrics.queryFailures.inc({ reason: f.reason });

    if (failures.length > 0) {
      // Nothing is decided on partial data: the quotas in force stay as they are.
      for (const [k, v] of values) state.values.set(k, v);
      const kept = state.everEvaluated || state.published.size > 0 ? "the last good quotas stay in force" : "no quotas were ever resolved, so none are applied";
      conditions.push({ type: "MetricsAvailable", status: "False", reason: failures[0]!.reason, message: `${failures.map((f) => f.message).join("; ")}; ${kept}` });
      conditions.push(readyCondition(templateErrors));
      return { limiter, quotas: state.published, status: this.statusOf(state, conditions), changed: false };
    }
    state.values = values;
    conditions.push({ type: "MetricsAvailable", status: "True", reason: "MetricsRead", message: `${values.size} metric value(s) read` });

    // Evaluate, then let hysteresis decide what is in force.
    const evalErrors: string[] = [];
    const next: ResolvedSets = new Map();
    for (const set of limiter.sets) next.set(set.name, []);
    const seenIds = new Set<string>();
    for (const c of compiled) {
      seenIds.add(c.id);
      const ds = state.descriptors.get(c.id) ?? { active: false, quota: 0, seen: false, seenCount: 0 };
      state.descriptors.set(c.id, ds);
      if (!c.error) {
        try {
          const holds = evaluate(c.condition!, values) as boolean;
          let quota = holds ? evaluateQuota(c.quota!, values) : ds.quota;
          if (holds && c.descriptor.strategy === "average" && !c.quota!.metrics.includes(`${c.set}.${POD_COUNT}`)) {
            // The quota is the set's; each pod takes its share (rounded up, as Slime's division).
            const pods = values.get(`${c.set}.${POD_COUNT}`)!;
            if (pods === 0) throw new ExpressionError(`strategy average: set ${c.set} has no ready pods`);
            quota = Math.ceil(quota / pods - 1e-9);
          }
          if (holds === ds.seen) ds.seenCount++;
          else {
            ds.seen = holds;
            ds.seenCount = 1;
          }
          // A constant condition ("true") cannot flap: it needs no confirmation.
          const needed = c.condition!.metrics.length === 0 ? 1 : this.confirmations;
          if (ds.seen !== ds.active && ds.seenCount >= needed) {
            ds.active = ds.seen;
            if (ds.active) ds.quota = quota;
          } else if (ds.active && holds && quotaMoved(ds.quota, quota, this.tolerance)) {
            ds.quota = quota;
          }
        } catch (err) {
          evalErrors.push(`${c.descriptor.path}: ${(err as Error).message}`);
        }
      }
      if (ds.active) {
        const r: ResolvedDescriptor = { quota: ds.quota, fillIntervalMs: c.descriptor.fillIntervalMs, strategy: c.descriptor.strategy, path: c.descriptor.path };
        if (c.descriptor.match) r.match = c.descriptor.match;
        next.get(c.set)!.push(r);
      }
    }
    for (const id of [...state.descriptors.keys()]) if (!seenIds.has(id)) state.descriptors.delete(id);
    conditions.push(readyCondition([...templateErrors, ...evalErrors]));

    let changed = false;
    if (!sameSets(next, state.published)) {
      if (now - state.lastChangeAt >= this.minUpdateIntervalMs) {
        state.published = next;
        state.lastChangeAt = now;
        changed = true;
        this.metrics.quotaUpdates.inc();
      } else {
        // Not yet: the hysteresis state has moved on; the published quotas follow at the next refresh
        // after the interval (the same verdicts give the same `next`).
        for (const c of compiled) {
          const ds = state.descriptors.get(c.id)!;
          const inForce = (state.published.get(c.set) ?? []).find((d) => d.path === c.descriptor.path);
          ds.active = inForce !== undefined;
          if (inForce) ds.quota = inForce.quota;
        }
      }
    }
    state.everEvaluated = true;
    return { limiter, quotas: state.published, status: this.statusOf(state, conditions), changed };
  }

  private statusOf(state: LimiterState, conditions: AdaptiveCondition[]): AdaptiveStatus {
    return { metricStatus: metricStatus(state.values), ratelimitStatus: ratelimitStatus(state.published), conditions };
  }
}

function readyCondition(errors: string[]): AdaptiveCondition {
  return errors.length > 0
    ? { type: "Ready", status: "False", reason: "InvalidTemplate", message: `${errors.join("; ")}; these descriptors are not applied (others are)` }
    : { type: "Ready", status: "True", reason: "Resolved", message: "every condition and quota evaluated" };
}

function quotaMoved(old: number, next: number, tolerance: number): boolean {
  if (old === next) return false;
  if (old === 0 || next === 0) return true;
  return Math.abs(next - old) / old > tolerance;
}

function sameSets(a: ResolvedSets, b: ResolvedSets): boolean {
  const keys = new Set([...a.keys(), ...b.keys()]);
  for (const k of keys) {
    const x = a.get(k) ?? [];
    const y = b.get(k) ?? [];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) {
      if (x[i]!.quota !== y[i]!.quota || x[i]!.fillIntervalMs !== y[i]!.fillIntervalMs || x[i]!.path !== y[i]!.path) return false;
    }
  }
  return true;
}
