// The real rate limit service (github.com/envoyproxy/ratelimit) on a real Redis, driven the way the
// filter's global limits will drive it (docs/global-rate-limit.md): what it counts, how it takes a
// batch of already-admitted hits (hits_addend), that two replicas share one count through Redis, and
// what a Redis restart does to the counts (lost without persistence, kept with an RDB snapshot).
//
// Limits here are per day, so that a fixed window cannot end in the middle of a test; a test starting
// within a minute of the window's end (UTC midnight) waits for the next window first.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "./redis";
import { awayFromDayEnd, type DescriptorConfig, RateLimitService, type RequestDescriptor, ratelimitDir, serviceConfigYaml } from "./service";

const domain = "meltemi-test";
const N = 5;
const descriptors: DescriptorConfig[] = [
  { key: "method", value: "sayHello", rateLimit: { unit: "day", requestsPerUnit: N } },
  // A nested descriptor: Aeraki's method + header shape (the service matches entries in order).
  { key: "method", value: "greet", descriptors: [{ key: "header", value: "vip", rateLimit: { unit: "day", requestsPerUnit: 2 } }] },
];
const sayHello: RequestDescriptor = { entries: [["method", "sayHello"]] };

const codes = (vs: { httpStatus: number; overallCode?: string }[]): string => vs.map((v) => v.overallCode ?? `HTTP ${v.httpStatus}`).join(",");

before(() => {
  ratelimitDir(); // provision (build) before any test's timers start
});

test("the service's config for a domain is the YAML it documents", () => {
  assert.equal(serviceConfigYaml(domain, descriptors), [
    "domain: meltemi-test",
    "descriptors:",
    "  - key: method",
    "    value: sayHello",
    "    rate_limit:",
    "      unit: day",
    "      requests_per_unit: 5",
    "  - key: method",
    "    value: greet",
    "    descriptors:",
    "      - key: header",
    "        value: vip",
    "        rate_limit:",
    "          unit: day",
    "          requests_per_unit: 2",
    "",
  ].join("\n"));
});

test("two replicas on one Redis count one limit: N admitted, then OVER_LIMIT", async () => {
  await awayFromDayEnd();
  const redis = await Redis.start();
  const a = await RateLimitService.start({ redisUrl: redis.url, domain, descriptors });
  const b = await RateLimitService.start({ redisUrl: redis.url, domain, descriptors });
  try {
    const verdicts = [];
    for (let i = 0; i < N + 3; i++) verdicts.push(await (i % 2 === 0 ? a : b).shouldRateLimit(domain, [sayHello]));
    console.log(`# two replicas, limit ${N}/day, ${N + 3} requests alternating: ${codes(verdicts)}`);
    assert.equal(codes(verdicts), [...Array(N).fill("OK"), ...Array(3).fill("OVER_LIMIT")].join(","));
    // limitRemaining counts down across both replicas (protobuf's JSON mapping omits a 0).
    assert.deepEqual(verdicts.slice(0, N).map((v) => v.statuses[0]?.limitRemaining ?? 0), [4, 3, 2, 1, 0]);
    assert.deepEqual(verdicts.map((v) => v.httpStatus), [...Array(N).fill(200), ...Array(3).fill(429)]);

    // Nested descriptors: the limit is on method=greet + header=vip; other headers are not limited.
    const vip: RequestDescriptor = { entries: [["method", "greet"], ["header", "vip"]] };
    const plain: RequestDescriptor = { entries: [["method", "greet"], ["header", "plain"]] };
    const nested = [];
    for (let i = 0; i < 3; i++) nested.push(await a.shouldRateLimit(domain, [vip]));
    for (let i = 0; i < 3; i++) nested.push(await b.shouldRateLimit(domain, [plain]));
    assert.equal(codes(nested), "OK,OK,OVER_LIMIT,OK,OK,OK");
    // A descriptor no limit matches is answered OK with no limit: a domain or key the service's config
    // lacks silently limits nothing.
    const unknown = await a.shouldRateLimit("no-such-domain", [sayHello]);
    assert.equal(unknown.overallCode, "OK");
    assert.equal(unknown.statuses[0]?.limitRemaining, undefined);
  } finally {
    a.cleanup();
    b.cleanup();
    redis.cleanup();
  }
});

test("hits_addend reports a batch of admitted hits; 0 only asks", async () => {
  await awayFromDayEnd();
  const redis = await Redis.start();
  const s = await RateLimitService.start({ redisUrl: redis.url, domain, descriptors });
  try {
    const batch = await s.shouldRateLimit(domain, [{ ...sayHello, hitsAddend: N - 1 }]);
    assert.equal(batch.overallCode, "OK");
    assert.equal(batch.statuses[0]?.limitRemaining, 1);
    const ask = await s.shouldRateLimit(domain, [{ ...sayHello, hitsAddend: 0 }]);
    assert.equal(ask.overallCode, "OK");
    assert.equal(ask.statuses[0]?.limitRemaining, 1, "hits_addend 0 does not count");
    // A batch past the limit is counted whole (the hits were admitted already) and answered OVER_LIMIT.
    const over = await s.shouldRateLimit(domain, [{ ...sayHello, hitsAddend: 3 }]);
    assert.equal(over.overallCode, "OVER_LIMIT");
    assert.equal(await redis.command("DBSIZE"), ":1", "one counter key in Redis");
    const next = await s.shouldRateLimit(domain, [{ ...sayHello, hitsAddend: 0 }]);
    assert.equal(next.overallCode, "OVER_LIMIT", "the count (N+2) stays over the limit");
    // The request-level hits_addend applies to descriptors without their own.
    const requestLevel = await s.shouldRateLimit(domain, [sayHello], 2);
    assert.equal(requestLevel.overallCode, "OVER_LIMIT");
  } finally {
    s.cleanup();
    redis.cleanup();
  }
});

/** Sends until the service answers (not HTTP 400) again after Redis came back; bounded. */
async function untilAnswered(s: RateLimitService, max: number): Promise<{ errors: number; first: Awaited<ReturnType<RateLimitService["shouldRateLimit"]>> }> {
  for (let errors = 0; errors < max; errors++) {
    const v = await s.shouldRateLimit(domain, [sayHello]);
    if (v.httpStatus !== 400) return { errors, first: v };
  }
  throw new Error(`the service still failed after ${max} requests:\n${s.log()}`);
}

for (const persistent of [false, true]) {
  test(`Redis restart ${persistent ? "with an RDB snapshot keeps" : "without persistence loses"} the counts`, async () => {
    await awayFromDayEnd();
    const redis = await Redis.start({ persistent });
    const poolSize = 2;
    const s = await RateLimitService.start({ redisUrl: redis.url, domain, descriptors, redisPoolSize: poolSize });
    try {
      await s.shouldRateLimit(domain, [{ ...sayHello, hitsAddend: N + 1 }]);
      assert.equal((await s.shouldRateLimit(domain, [{ ...sayHello, hitsAddend: 0 }])).overallCode, "OVER_LIMIT");

      await redis.stop();
      const down = await s.shouldRateLimit(domain, [sayHello]);
      assert.equal(down.httpStatus, 400, "Redis down: ShouldRateLimit fails (no verdict), /json answers 400");
      assert.equal(down.overallCode, undefined);

      await redis.restart();
      // Each pooled connection to the old Redis fails one request before the pool replaces it.
      const { errors, first } = await untilAnswered(s, 4 * poolSize + 4);
      console.log(`# Redis restart (${persistent ? "RDB snapshot" : "no persistence"}): ${errors} failed requests on stale pooled connections (pool ${poolSize}), then ${first.overallCode}`);
      assert.ok(errors <= poolSize + 1, `${errors} failures after the restart, pool of ${poolSize}`);
      if (persistent) {
        assert.equal(first.overallCode, "OVER_LIMIT", "the snapshot kept the count");
      } else {
        assert.equal(first.overallCode, "OK", "the count started again from 0");
        // All but the stale connections' failures are counted from zero: N admitted in total.
        let admitted = 1;
        for (let i = 0; i < N + 2 * poolSize; i++) {
          const v = await s.shouldRateLimit(domain, [sayHello]);
          if (v.overallCode === "OK") admitted++;
        }
        assert.equal(admitted, N);
      }
    } finally {
      s.cleanup();
      redis.cleanup();
    }
  });
}
