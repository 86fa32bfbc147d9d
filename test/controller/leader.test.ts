// Leader election on a Lease, on a fake clock (node:test's mock timers for setTimeout and Date) against a
// fake API server holding one Lease with optimistic concurrency (resourceVersion, 409 on a stale PUT):
// a free Lease is taken, a renewed one is not, an unrenewed one is taken after leaseDuration as observed
// locally, a leader that cannot renew stops leading at the renew deadline, two replicas never lead at
// once, and stop() hands the Lease over. (Two real controller processes: test/kube/controller.test.ts.)
import { afterEach, beforeEach, mock, test } from "node:test";
import assert from "node:assert/strict";
import pino from "pino";
import { LeaderElector, type LeaderConfig } from "../../controller/runtime/leader";
import { KubeError, type KubeHttp } from "../../controller/runtime/kube_http";

type Lease = { metadata: { name: string; namespace: string; resourceVersion?: string }; spec: Record<string, unknown> };

/** One Lease behind GET/POST/PUT, with resourceVersion checks; `down` makes every request fail. */
class FakeLeaseServer {
  lease?: Lease;
  private version = 0;
  down = false;

  client(): KubeHttp {
    return {
      request: async (method: string, _path: string, opts: { body?: unknown } = {}) => {
        if (this.down) throw new Error("connection refused");
        if (method === "GET") {
          if (!this.lease) throw new KubeError(404, "NotFound", "leases not found");
          return structuredClone(this.lease);
        }
        const body = structuredClone(opts.body) as Lease;
        if (method === "POST") {
          if (this.lease) throw new KubeError(409, "AlreadyExists", "exists");
        } else if (method === "PUT") {
          if (body.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) throw new KubeError(409, "Conflict", "stale");
        } else throw new Error(`unexpected ${method}`);
        body.metadata.resourceVersion = String(++this.version);
        this.lease = body;
        return structuredClone(body);
      },
    } as unknown as KubeHttp;
  }

  /** Another replica (not under test) holds and renews the Lease. */
  holdAs(identity: string): void {
    this.lease = {
      metadata: { name: "meltemi", namespace: "meltemi-system", resourceVersion: String(++this.version) },
      spec: { holderIdentity: identity, leaseDurationSeconds: 15, renewTime: new Date(Date.now()).toISOString() },
    };
  }
}

const CONFIG = { namespace: "meltemi-system", name: "meltemi", leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 };

function elector(server: FakeLeaseServer, identity: string) {
  const changes: string[] = [];
  const config: LeaderConfig = { ...CONFIG, identity };
  const e = new LeaderElector(server.client(), config, {
    onStartLeading: () => changes.push(`start@${Date.now()}`),
    onStopLeading: () => changes.push(`stop@${Date.now()}`),
  }, pino({ level: "silent" }));
  return { e, changes };
}

/** When the i-th leadership change ("start@<ms>" / "stop@<ms>") happened; NaN if there is none. */
function changeAt(changes: readonly string[], i: number): number {
  return Number(changes[i]?.split("@")[1]);
}

async function settle(): Promise<void> {
  for (let i = 0; i < 8; i++) await new Promise((r) => setImmediate(r));
}

/** Moves the fake clock by `ms` in steps of 100 ms, letting promises settle at each. */
async function advance(ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 100) { mock.timers.tick(Math.min(100, ms - t)); await settle(); }
}

beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_000_000 }));
afterEach(() => mock.timers.reset());

test("a free Lease is created and held; the holder renews it every retryPeriod", async () => {
  const server = new FakeLeaseServer();
  const a = elector(server, "a");
  a.e.start();
  await settle();
  assert.equal(a.e.isLeader, true);
  assert.deepEqual(a.changes, ["start@1000000"]);
  assert.equal(server.lease?.spec.holderIdentity, "a");
  const renewed = server.lease?.spec.renewTime;
  await advance(CONFIG.retryPeriodSeconds * 1000);
  assert.notEqual(server.lease?.spec.renewTime, renewed, "renewed");
  assert.equal(a.e.isLeader, true);
  await a.e.stop();
});

test("a Lease another replica renews is not taken; one left unrenewed is taken after leaseDuration, counted as a transition", async () => {
  const server = new FakeLeaseServer();
  server.holdAs("other");
  const a = elector(server, "a");
  a.e.start();
  for (let t = 0; t < 30_000; t += 5000) { server.holdAs("other"); await advance(5000); }
  assert.equal(a.e.isLeader, false, "the holder kept renewing");
  assert.deepEqual(a.changes, []);
  // The other replica renews a last time now: the record then stays unchanged, and this replica takes
  // the Lease once it has seen it unchanged for leaseDuration (so not before, and within a retryPeriod after).
  server.holdAs("other");
  const stoppedAt = Date.now();
  await advance(CONFIG.leaseDurationSeconds * 1000 - 100);
  assert.equal(a.e.isLeader, false, "not before leaseDuration");
  await advance(100 + 2 * CONFIG.retryPeriodSeconds * 1000);
  assert.equal(a.e.isLeader, true);
  const took = changeAt(a.changes, 0) - stoppedAt;
  assert.ok(took >= CONFIG.leaseDurationSeconds * 1000, `taken ${took} ms after the last renewal`);
  assert.equal(server.lease?.spec.leaseTransitions, 1);
  await a.e.stop();
});

test("a leader that cannot renew stops writing at the renew deadline, even before its timer runs", async () => {
  const server = new FakeLeaseServer();
  const a = elector(server, "a");
  a.e.start();
  await settle();
  assert.equal(a.e.isLeader, true);
  server.down = true;
  await advance(CONFIG.renewDeadlineSeconds * 1000 - 100);
  assert.equal(a.e.isLeader, true, "within the deadline");
  mock.timers.tick(100); // the deadline passes between two ticks of the elector
  assert.equal(a.e.isLeader, false, "isLeader reads the clock");
  await advance(CONFIG.retryPeriodSeconds * 1000);
  assert.equal(a.changes.length, 2, a.changes.join());
  const stoppedAt = changeAt(a.changes, 1);
  assert.ok(stoppedAt >= 1_000_000 + CONFIG.renewDeadlineSeconds * 1000 && stoppedAt <= 1_000_000 + (CONFIG.renewDeadlineSeconds + CONFIG.retryPeriodSeconds) * 1000, a.changes.join());
  server.down = false;
  await advance(CONFIG.retryPeriodSeconds * 1000);
  assert.equal(a.e.isLeader, true, "competes again and, as the holder, renews");
  await a.e.stop();
});

test("two replicas: exactly one leads at any time; stop() releases the Lease and the other takes it at once", async () => {
  const server = new FakeLeaseServer();
  const a = elector(server, "a");
  const b = elector(server, "b");
  a.e.start();
  b.e.start();
  for (let t = 0; t < 40_000; t += 500) {
    await advance(500);
    assert.equal(Number(a.e.isLeader) + Number(b.e.isLeader), 1, `at ${t} ms: a ${a.e.isLeader}, b ${b.e.isLeader}`);
  }
  const [leader, follower] = a.e.isLeader ? [a, b] : [b, a];
  await leader.e.stop();
  assert.equal(server.lease?.spec.holderIdentity, null, "released");
  // The released Lease says 1 s: the follower takes it about a second later, not after 15 s.
  await advance(1000 + 2 * CONFIG.retryPeriodSeconds * 1000);
  assert.equal(follower.e.isLeader, true);
  await follower.e.stop();
});
