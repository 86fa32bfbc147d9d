// The statistical assertion of the real-Envoy tests that count outcomes (weighted splits, fault
// percentages): the observed share of `hits` among `total` lies within `points` percentage points of
// `percent`. With n >= 1000 Bernoulli trials, 5 points is more than 3 standard deviations for any p,
// so a correct filter fails it less than once in a thousand runs.
import assert from "node:assert/strict";

export function assertShareNear(what: string, hits: number, total: number, percent: number, points = 5): number {
  const share = (100 * hits) / total;
  assert.ok(Math.abs(share - percent) <= points, `${what}: ${share.toFixed(1)}% of ${total} (${hits}), expected ${percent} +- ${points} points`);
  return share;
}
