// The statistical assertion of the real-Envoy tests that count outcomes (weighted splits, fault
// percentages): the observed share of `hits` among `total` lies within `points` percentage points of
// `percent`. With n >= 1000 Bernoulli trials, 5 points is more than 3 standard deviations for any p,
// so a correct filter fails it less than once in a thousand runs; and since the filter's draws come from
// the seed `withSeed` gives it (printed), a failure can be replayed.
import assert from "node:assert/strict";
import type { TestContext } from "node:test";

/**
 * `config` with the filter's randomSeed (filter-config.schema.json): MELTEMI_TEST_SEED=N replays a run,
 * otherwise a fresh seed. The seed is printed as a diagnostic of `t`, pass or fail. One connection's
 * requests are decided by one VM in order, so the same seed gives the same draws.
 */
export function withSeed<T extends object>(t: TestContext, config: T): T & { randomSeed: number } {
  const seed = Number(process.env.MELTEMI_TEST_SEED) || 1 + Math.floor(Math.random() * 0xfffffffe);
  t.diagnostic(`randomSeed ${seed} (replay: MELTEMI_TEST_SEED=${seed} node --import tsx --test <this file>)`);
  return { ...config, randomSeed: seed };
}

export function assertShareNear(what: string, hits: number, total: number, percent: number, points = 5): number {
  const share = (100 * hits) / total;
  assert.ok(Math.abs(share - percent) <= points, `${what}: ${share.toFixed(1)}% of ${total} (${hits}), expected ${percent} +- ${points} points`);
  return share;
}
