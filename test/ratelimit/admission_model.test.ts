// The design's admission algorithm (a TypeScript model, admission_model.ts; not the filter) against the
// real service: pods admit locally and report hits_addend every interval; the total admitted must lie
// between the limit N and the bound N + sum over pods of the most requests in any (interval + latency)
// span. Virtual time, seeded: the figures repeat from run to run.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { type ModelOptions, runModel } from "./admission_model";
import { Redis } from "./redis";
import { awayFromDayEnd, RateLimitService, ratelimitDir } from "./service";

const domain = "meltemi-model";

before(() => {
  ratelimitDir();
});

const scenarios: { name: string; n: number; o: ModelOptions }[] = [
  { name: "3 pods, even load", n: 50, o: { rates: [200, 200, 200], reportIntervalMs: 100, maxLatencyMs: 20, durationMs: 2_000, seed: 1 } },
  { name: "3 pods, shorter interval", n: 50, o: { rates: [200, 200, 200], reportIntervalMs: 50, maxLatencyMs: 20, durationMs: 2_000, seed: 2 } },
  { name: "4 pods, uneven load", n: 100, o: { rates: [600, 50, 50, 20], reportIntervalMs: 100, maxLatencyMs: 50, durationMs: 2_000, seed: 3 } },
  { name: "1 pod", n: 50, o: { rates: [500], reportIntervalMs: 100, maxLatencyMs: 20, durationMs: 1_000, seed: 4 } },
];

test("the design's overshoot stays within its bound, counted by the real service", async () => {
  await awayFromDayEnd();
  const redis = await Redis.start();
  try {
    for (const [i, { name, n, o }] of scenarios.entries()) {
      // A descriptor value per scenario: each has its own count of N per day.
      const value = `scenario-${i}`;
      const s = await RateLimitService.start({ redisUrl: redis.url, domain, descriptors: [{ key: "scenario", value, rateLimit: { unit: "day", requestsPerUnit: n } }] });
      try {
        const entries: [string, string][] = [["scenario", value]];
        const r = await runModel(o, async (hits) => {
          const v = await s.shouldRateLimit(domain, [{ entries, hitsAddend: hits }]);
          assert.ok(v.overallCode === "OK" || v.overallCode === "OVER_LIMIT", `report failed: HTTP ${v.httpStatus}\n${s.log()}`);
          return { code: v.overallCode, remaining: v.statuses[0]?.limitRemaining ?? 0 };
        });
        const bound = n + r.mostInSpan.reduce((a, b) => a + b, 0);
        console.log(`# ${name}: rates ${o.rates.join("/")} per s, interval ${o.reportIntervalMs} ms, latency <= ${o.maxLatencyMs} ms: offered ${r.offered}, admitted ${r.admitted}, limit ${n}, overshoot ${r.admitted - n}, bound ${bound - n} (most per span ${r.mostInSpan.join("/")}), ${r.reports} reports`);
        assert.ok(r.offered > n, "the load exceeds the limit");
        assert.ok(r.admitted >= n, `admitted ${r.admitted} < limit ${n}: the limit was not used`);
        assert.ok(r.admitted <= bound, `admitted ${r.admitted} > bound ${bound}`);
        // Every admitted hit was reported exactly once: the service's count is the model's total
        // (limit_remaining floors at 0, so the count is read from Redis: key domain_key_value_window).
        const window = Math.floor(Date.now() / 86_400_000) * 86_400;
        assert.equal(await redis.command(`INCRBY ${domain}_scenario_${value}_${window} 0`), `:${r.admitted}`);
        if (o.rates.length === 1) assert.equal(r.admitted, n, "one pod is exact");
      } finally {
        s.cleanup();
      }
    }
  } finally {
    redis.cleanup();
  }
});
