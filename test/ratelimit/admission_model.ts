// A TypeScript model of the admission and reporting algorithm of docs/global-rate-limit.md (NOT the
// filter, which does not have it yet), run in virtual time against the real rate limit service, to
// measure the overshoot against the stated bound before the algorithm is built into the filter.
//
// Virtual time keeps it deterministic: arrivals, report ticks and report latencies come from a seeded
// PRNG; each report is a real ShouldRateLimit, made when its virtual send time comes (so the service
// sees the reports in virtual-time order), and its answer is applied at send time + its latency.
import { prng } from "../support/prng";

export interface Answer { code: "OK" | "OVER_LIMIT"; remaining: number }
/** One real report: `hits` admitted since the last one (0: only ask). */
export type Report = (hits: number) => Promise<Answer>;

export interface ModelOptions {
  /** Matched requests per virtual second, per pod. */
  rates: number[];
  reportIntervalMs: number;
  /** Largest report latency (each is drawn from [maxLatencyMs / 4, maxLatencyMs]); <= the interval. */
  maxLatencyMs: number;
  durationMs: number;
  seed: number;
}

export interface ModelResult {
  offered: number;
  admitted: number;
  reports: number;
  /** Per pod, the most arrivals in any span of interval + max latency (the bound's "rate x time"). */
  mostInSpan: number[];
}

interface Pod {
  verdict: "UNKNOWN" | "OK" | "OVER_LIMIT";
  remaining: number;
  pending: number;
  inFlight: number | null;
}

type Event =
  | { t: number; kind: "arrival"; pod: number }
  | { t: number; kind: "tick"; pod: number }
  | { t: number; kind: "answer"; pod: number; answer: Answer };

export async function runModel(o: ModelOptions, report: Report): Promise<ModelResult> {
  const rand = prng(o.seed);
  const events: Event[] = [];
  const push = (e: Event): void => {
    // Stable insertion by time (events at equal times keep their order).
    let i = events.length;
    while (i > 0 && events[i - 1]!.t > e.t) i--;
    events.splice(i, 0, e);
  };
  const span = o.reportIntervalMs + o.maxLatencyMs;
  const mostInSpan = o.rates.map((rate, pod) => {
    const arrivals: number[] = [];
    for (let t = -Math.log(1 - rand()) * 1000 / rate; t < o.durationMs; t += -Math.log(1 - rand()) * 1000 / rate) arrivals.push(t);
    for (const t of arrivals) push({ t, kind: "arrival", pod });
    // First tick at 0: the design asks at once for a descriptor value it has no verdict for.
    for (let t = 0, phase = rand() * o.reportIntervalMs; t < o.durationMs; t = t === 0 ? phase : t + o.reportIntervalMs) push({ t, kind: "tick", pod });
    let most = 0;
    for (let i = 0, j = 0; i < arrivals.length; i++) {
      while (arrivals[i]! - arrivals[j]! > span) j++;
      most = Math.max(most, i - j + 1);
    }
    return most;
  });
  const pods: Pod[] = o.rates.map(() => ({ verdict: "UNKNOWN", remaining: 0, pending: 0, inFlight: null }));
  let offered = 0;
  let admitted = 0;
  let reports = 0;
  while (events.length > 0) {
    const e = events.shift()!;
    const pod = pods[e.pod]!;
    if (e.kind === "arrival") {
      offered++;
      // UNKNOWN admits (fail open); OK admits within what the service said was left, counting the
      // hits already sent in the report still in flight.
      const admit = pod.verdict === "UNKNOWN" || (pod.verdict === "OK" && pod.pending + (pod.inFlight ?? 0) < pod.remaining);
      if (admit) {
        pod.pending++;
        admitted++;
      }
    } else if (e.kind === "tick") {
      if (pod.inFlight !== null) continue; // one report in flight per pod (the design's lease)
      const hits = pod.pending;
      pod.pending = 0;
      pod.inFlight = hits;
      reports++;
      const answer = await report(hits);
      push({ t: e.t + o.maxLatencyMs * (0.25 + 0.75 * rand()), kind: "answer", pod: e.pod, answer });
    } else {
      pod.inFlight = null;
      pod.verdict = e.answer.code;
      pod.remaining = e.answer.remaining;
    }
  }
  // The end: the last pending hits are reported too, so that the service's count is every admitted hit.
  for (const pod of pods) {
    if (pod.pending > 0) {
      reports++;
      await report(pod.pending);
    }
  }
  return { offered, admitted, reports, mostInSpan };
}
