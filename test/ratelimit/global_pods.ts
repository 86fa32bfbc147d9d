// The real-Envoy scenario of the filter's global limits (docs/global-rate-limit.md, filter/global/):
// two Envoys ("pods", 2 workers each) with Meltemi, one rate limit service on one Redis, a limit of N
// per second. Shared by global-thrift.test.ts and global-dubbo.test.ts: the bootstrap pieces, the
// paced load through both pods, and the figures: admitted per window of the service against the
// design's bound (N <= admitted <= N + sum over pods of a_p, a_p the most requests pod p got in any
// span of T + L), the outage of the service and a Redis restart.
import assert from "node:assert/strict";
import { staticCluster } from "../envoy/bootstrap";
import type { Envoy } from "../envoy/envoy";
import type { RateLimitService } from "./service";
import type { Redis } from "./redis";
import { waitFor } from "../wait";

export const DOMAIN = "meltemi-global";
/** The limit: N per second for the limited method, in the service's configuration. */
export const N = 30;
/** Per pod, one request every PACE_MS (100 per second each: 200 offered per window against N = 30). */
export const PACE_MS = 10;
/** The filter's report interval T; its gRPC timeout is the same (L <= T). */
export const REPORT_INTERVAL_MS = 100;
/**
 * How late Envoy may decide a request after the client sent it. The windows are the service's
 * calendar seconds and the client's clock is the same as Envoy's (one machine), so a request is
 * decided at or after it was sent; one sent in the last SEND_SLACK_MS of a window may be decided in
 * the next. Those are allowed to the window they were sent in, and counted as such.
 */
const SEND_SLACK_MS = 50;

export function serviceDescriptors(method: string) {
  return [{ key: "method", value: method, rateLimit: { unit: "second" as const, requestsPerUnit: N } }];
}

export function globalLimit(method: string, failMode: "open" | "closed") {
  return {
    domain: DOMAIN,
    cluster: "rls",
    match: { method: { exact: method } },
    entries: [{ key: "method", metadata: "method" }],
    reportIntervalMs: REPORT_INTERVAL_MS,
    timeoutMs: REPORT_INTERVAL_MS,
    failMode,
  };
}

/** The rate limit service's cluster: gRPC needs HTTP/2 (test/ratelimit/envoy-rls.test.ts). */
export function rlsCluster(grpcPort: number, name = "rls"): object {
  return {
    ...staticCluster(name, grpcPort),
    typed_extension_protocol_options: {
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
  };
}

export interface Sent { pod: number; at: number; ok?: boolean; body?: string }

/** Sends through the pods in turn, PACE_MS apart per pod, for `ms`; resolves when every call has an outcome. */
export async function load(pods: number, ms: number, send: (pod: number, done: (ok: boolean, body: string) => void) => void): Promise<Sent[]> {
  const sent: Sent[] = [];
  const step = PACE_MS / pods;
  const start = Date.now();
  for (let i = 0; Date.now() - start < ms && i < (ms / step) * 2; i++) {
    const due = start + i * step;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    const s: Sent = { pod: i % pods, at: Date.now() };
    sent.push(s);
    send(s.pod, (ok, body) => { s.ok = ok; s.body = body; });
  }
  const deadline = Date.now() + 20_000;
  while (sent.some((s) => s.ok === undefined)) {
    assert.ok(Date.now() < deadline, `${sent.filter((s) => s.ok === undefined).length} calls without an outcome after 20 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return sent;
}

export interface WindowFigures { window: number; offered: number; admitted: number; bound: number; full: boolean }

/**
 * Admitted per service window and the bound for it: N + sum over pods of a_p (a_p: the most requests
 * pod p sent in any span of T + L = 2T), plus the admitted requests sent in the window's last
 * SEND_SLACK_MS (they may have been decided in the next window).
 */
export function windows(sent: Sent[], pods: number): WindowFigures[] {
  const span = 2 * REPORT_INTERVAL_MS;
  const mostInSpan = Array.from({ length: pods }, (_, p) => {
    const times = sent.filter((s) => s.pod === p).map((s) => s.at);
    let most = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! > span) j++;
      most = Math.max(most, i - j + 1);
    }
    return most;
  });
  const slackBound = mostInSpan.reduce((a, b) => a + b, 0);
  const first = Math.floor(sent[0]!.at / 1000);
  const last = Math.floor(sent[sent.length - 1]!.at / 1000);
  const out: WindowFigures[] = [];
  for (let w = first; w <= last; w++) {
    const inWindow = sent.filter((s) => Math.floor(s.at / 1000) === w);
    const admitted = inWindow.filter((s) => s.ok).length;
    const late = inWindow.filter((s) => s.ok && s.at >= (w + 1) * 1000 - SEND_SLACK_MS).length;
    out.push({ window: w, offered: inWindow.length, admitted, bound: N + slackBound + late, full: w !== first && w !== last });
  }
  return out;
}

export function describe(label: string, figures: WindowFigures[]): string {
  return `${label}: ` + figures.map((f) => `${f.full ? "" : "("}${f.admitted}/${f.offered} <= ${f.bound}${f.full ? "" : ")"}`).join(", ") +
    ` (admitted/offered <= bound per window of 1 s, N = ${N}; parenthesized: partial windows)`;
}

/** Every window within its bound; the full windows together admitted at least N each (the service's count reached N in each). */
export function assertWithinBound(label: string, figures: WindowFigures[]): void {
  for (const f of figures) assert.ok(f.admitted <= f.bound, `${label}: window ${f.window} admitted ${f.admitted} > bound ${f.bound}`);
  const full = figures.filter((f) => f.full);
  assert.ok(full.length >= 1, `${label}: no full window`);
  const total = full.reduce((a, f) => a + f.admitted, 0);
  assert.ok(total >= N * full.length - N, `${label}: full windows admitted ${total}, fewer than N per window (${N} x ${full.length}) less one window's N`);
}

/** Waits for the next window to begin (so that a phase starts with a fresh window). */
export async function nextWindow(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
}

export async function globalStat(envoys: Envoy[], name: string): Promise<number> {
  let total = 0;
  for (const e of envoys) total += await e.wasmStatTotal(name);
  return total;
}

/**
 * The scenario after the bound phase: the service stops mid-run (the fail mode governs, after
 * failAfter = 3 T), starts again (recovery), then Redis restarts without persistence (its counts are
 * lost; the service fails while Redis is down and for one call per stale pooled connection after).
 */
export async function outageAndRecovery(
  t: { diagnostic(s: string): void },
  failMode: "open" | "closed",
  envoys: Envoy[],
  service: RateLimitService,
  /** null: no Redis restart (the other fail mode's shorter run). */
  redis: Redis | null,
  send: (pod: number, done: (ok: boolean, body: string) => void) => void,
): Promise<void> {
  const pods = envoys.length;
  // The service stops. Once a report has failed (the event waited for, with traffic so that there are
  // reports) and 3 T have passed since the last answer, no verdict is in force any more.
  // The clock starts once the service has exited (an answer sent while it stopped may still have come
  // in), plus one interval for an answer already read but not yet handled by a loaded worker: waiting
  // longer than failAfter only makes "no verdict in force" more certain.
  const failuresBefore = await reportFailures(envoys);
  await service.stop();
  const stoppedAt = Date.now();
  const before = await trafficUntil(pods, send, async () => (await reportFailures(envoys)) > failuresBefore, "a failed report");
  const wait = stoppedAt + 4 * REPORT_INTERVAL_MS + 50 - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const settled = await load(pods, 1000, send);
  const settledAdmitted = settled.filter((s) => s.ok).length;
  t.diagnostic(`service down, fail ${failMode}: until the first failed report ${before.filter((s) => s.ok).length}/${before.length} admitted; then, 3 T after the last answer: ${settledAdmitted}/${settled.length}`);
  if (failMode === "closed") {
    assert.equal(settledAdmitted, 0, "fail closed: nothing admitted without a verdict");
    for (const s of settled) assert.match(s.body ?? "", /global rate limit service unavailable/);
  } else {
    assert.equal(settledAdmitted, settled.length, "fail open: everything admitted without a verdict");
  }
  const failCounter = failMode === "closed" ? "meltemi_global_fail_closed_rejected_total" : "meltemi_global_fail_open_admitted_total";
  // The VM adds its counters to Envoy's on the root's tick (docs/global-rate-limit.md): the last
  // requests' count can be a tick away when the load ends, so wait for it rather than read once.
  await waitFor(`${failCounter} to count the ${settled.length} requests decided without a verdict`,
    async () => ((await globalStat(envoys, failCounter)) >= settled.length ? true : undefined), 10_000,
    () => `${failCounter}: last read below ${settled.length}`);

  // It returns: the first answer restores the verdicts, then the limit holds again.
  await service.restart();
  await recover(t, "service back", envoys, send);

  // Redis restarts (no persistence: the window's count is lost). The service fails while Redis is down,
  // and once per stale pooled connection after (REDIS_POOL_SIZE); those reports' hits are not counted.
  if (!redis) return;
  await redis.restart();
  await recover(t, "after a Redis restart", envoys, send);
}

async function reportFailures(envoys: Envoy[]): Promise<number> {
  return (await globalStat(envoys, "meltemi_global_reports_failed_total")) + (await globalStat(envoys, "meltemi_global_reports_unsent_total"));
}

/** Paced traffic through the pods until `done` holds (checked between bursts), at most 20 s. */
async function trafficUntil(pods: number, send: (pod: number, done: (ok: boolean, body: string) => void) => void, done: () => Promise<boolean>, what: string): Promise<Sent[]> {
  const sent: Sent[] = [];
  const deadline = Date.now() + 20_000;
  while (!(await done())) {
    assert.ok(Date.now() < deadline, `no ${what} within 20 s`);
    sent.push(...await load(pods, 200, send));
  }
  return sent;
}

/** Traffic until a report is answered again (the event), then two windows measured against the bound. */
async function recover(t: { diagnostic(s: string): void }, label: string, envoys: Envoy[], send: (pod: number, done: (ok: boolean, body: string) => void) => void): Promise<void> {
  const answered = await globalStat(envoys, "meltemi_global_reports_ok_total");
  const warmUp = await trafficUntil(envoys.length, send, async () => (await globalStat(envoys, "meltemi_global_reports_ok_total")) > answered, "answered report");
  t.diagnostic(`${label}, until the first answer: ${warmUp.filter((s) => s.ok).length}/${warmUp.length} admitted`);
  await nextWindow();
  const figures = windows(await load(envoys.length, 2500, send), envoys.length);
  t.diagnostic(describe(label, figures));
  assertWithinBound(label, figures);
}
