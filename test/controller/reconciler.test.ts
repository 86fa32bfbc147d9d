// The reconcile loop's timing rules on a fake clock (node:test's mock timers for setTimeout and Date),
// with fakes for the API client and the informers: a burst of changes runs once after `debounceMs` of
// quiet, a steady stream of changes still runs `maxDelayMs` after its first, runs never overlap (a change
// during a run schedules one more), a failed run is retried with doubling backoff reset by a success,
// and a replica that is not the leader writes nothing. (The loop against a real kube-apiserver:
// test/kube/controller.test.ts.)
import { afterEach, beforeEach, mock, test } from "node:test";
import assert from "node:assert/strict";
import pino from "pino";
import { Reconciler, type ReconcilerDeps } from "../../controller/runtime/reconciler";
import { ControllerMetrics } from "../../controller/runtime/metrics";
import type { Informers } from "../../controller/runtime/informers";
import type { KubeHttp } from "../../controller/runtime/kube_http";
import type { EventRecorder } from "../../controller/runtime/events";
import type { ReconcileContext } from "../../controller/runtime/sources";
import { emptySnapshot } from "../../controller/translate/snapshot";

const DEBOUNCE = 200;
const MAX_DELAY = 1000;

/** Lets the promises of a run settle (mock timers do not move setImmediate). */
async function settle(): Promise<void> {
  for (let i = 0; i < 8; i++) await new Promise((r) => setImmediate(r));
}

/** A reconciler over an empty cluster whose runs are seen (and can be held or failed) through a source's afterReconcile. */
function harness(opts: { leader?: boolean } = {}) {
  const metrics = new ControllerMetrics();
  const writes: string[] = [];
  const http = { request: async (method: string, path: string) => { writes.push(`${method} ${path}`); return {}; } } as unknown as KubeHttp;
  const informers = {
    synced: true,
    snapshot: emptySnapshot,
    served: () => undefined,
    servedResources: () => [],
    owned: () => [],
    outputObject: () => undefined,
    input: () => undefined,
  } as unknown as Informers;
  const events = { record: async () => {} } as unknown as EventRecorder;
  const runs: { started: number; finish: (err?: Error) => void }[] = [];
  let leader = opts.leader ?? true;
  let hold = false;
  let failNext = 0;
  const source = {
    name: "probe",
    afterReconcile: (_ctx: ReconcileContext) => new Promise<void>((resolve, reject) => {
      const finish = (err?: Error) => (err ? reject(err) : resolve());
      runs.push({ started: Date.now(), finish });
      if (failNext > 0) { failNext--; finish(new Error("injected failure")); } else if (!hold) finish();
    }),
  };
  const deps: ReconcilerDeps = {
    http, informers, events, metrics, log: pino({ level: "silent" }), options: {}, trafficExtensionAuto: false,
    sources: [source], isLeader: () => leader, debounceMs: DEBOUNCE, maxDelayMs: MAX_DELAY,
  };
  const count = async (result: string) => (await metrics.reconciles.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
  return {
    r: new Reconciler(deps), runs, writes, count,
    setLeader: (v: boolean) => { leader = v; },
    holdRuns: (v: boolean) => { hold = v; },
    failRuns: (n: number) => { failNext = n; },
  };
}

/** Moves the fake clock by `ms`, letting promises settle at every step of 10 ms. */
async function advance(ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 10) { mock.timers.tick(Math.min(10, ms - t)); await settle(); }
}

beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"], now: 0 }));
afterEach(() => mock.timers.reset());

test("a burst of changes runs once, debounceMs after the last change", async () => {
  const h = harness();
  h.r.trigger();
  await advance(100);
  h.r.trigger();
  await advance(100);
  h.r.trigger();
  await advance(DEBOUNCE - 10);
  assert.equal(h.runs.length, 0, "no run while changes keep coming within debounceMs");
  await advance(10);
  assert.deepEqual(h.runs.map((x) => x.started), [400]);
  await advance(2000);
  assert.equal(h.runs.length, 1, "one run for the burst");
  assert.equal(await h.count("success"), 1);
  await h.r.stop();
});

test("changes that never pause still run maxDelayMs after the first", async () => {
  const h = harness();
  for (let t = 0; t < 1500; t += 100) { h.r.trigger(); await advance(100); }
  assert.equal(h.runs[0]?.started, MAX_DELAY, `first run at ${h.runs[0]?.started}`);
  await h.r.stop();
});

test("runs never overlap: a change during a run schedules one more run after it", async () => {
  const h = harness();
  h.holdRuns(true);
  h.r.trigger();
  await advance(DEBOUNCE);
  assert.equal(h.runs.length, 1);
  h.r.trigger();
  h.r.trigger();
  await advance(2 * DEBOUNCE);
  assert.equal(h.runs.length, 1, "no second run while the first is in progress");
  h.holdRuns(false);
  h.runs[0]!.finish();
  await settle();
  await advance(DEBOUNCE);
  assert.equal(h.runs.length, 2, "the changes during the run: one more run");
  await advance(2000);
  assert.equal(h.runs.length, 2);
  await h.r.stop();
});

test("a failed run is retried after 1 s, 2 s, 4 s ...; a success resets the backoff", async () => {
  const h = harness();
  h.failRuns(3);
  h.r.trigger();
  await advance(20_000);
  // Run at 200 (fails), retry triggered at 1200 runs at 1400 (fails), at 3400 -> 3600 (fails), at 7600 -> 7800 (succeeds).
  assert.deepEqual(h.runs.map((x) => x.started), [200, 1400, 3600, 7800]);
  assert.equal(await h.count("error"), 3);
  assert.equal(await h.count("success"), 1);
  assert.equal(h.r.reconciledAsLeader, true);
  h.failRuns(1);
  h.r.trigger();
  await advance(5000);
  const after = h.runs.slice(4).map((x) => x.started - h.runs[4]!.started);
  assert.deepEqual(after, [0, 1000 + DEBOUNCE], "after a success the next failure is retried after 1 s again");
  await h.r.stop();
});

test("a replica that is not the leader skips the run and writes nothing; stop() lets a run finish and starts no other", async () => {
  const h = harness({ leader: false });
  h.r.trigger();
  await advance(DEBOUNCE);
  assert.equal(await h.count("skipped"), 1);
  assert.equal(h.runs.length, 0);
  assert.equal(h.writes.length, 0, h.writes.join());
  h.setLeader(true);
  h.holdRuns(true);
  h.r.trigger();
  await advance(DEBOUNCE);
  assert.equal(h.runs.length, 1);
  h.r.trigger();
  const stopped = h.r.stop();
  let done = false;
  void stopped.then(() => { done = true; });
  await settle();
  assert.equal(done, false, "stop() waits for the run in progress");
  h.runs[0]!.finish();
  await stopped;
  await advance(2000);
  assert.equal(h.runs.length, 1, "no run after stop()");
});
