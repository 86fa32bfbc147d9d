// The hand-encoded ShouldRateLimit (grpc.ts) against the real service: the bytes the filter will send
// (a fixed vector, derived by hand from the .proto field numbers), and their meaning to the service
// (the same count seen over gRPC and over /json; a present-but-zero hits_addend only asks).
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { SHOULD_RATE_LIMIT, decodeRateLimitResponse, encodeRateLimitRequest, grpcUnary } from "./grpc";
import { Redis } from "./redis";
import { awayFromDayEnd, type DescriptorConfig, RateLimitService, ratelimitDir } from "./service";

const domain = "meltemi-grpc";
const N = 5;
const descriptors: DescriptorConfig[] = [{ key: "method", value: "sayHello", rateLimit: { unit: "day", requestsPerUnit: N } }];
const sayHello: [string, string][] = [["method", "sayHello"]];

before(() => {
  ratelimitDir();
});

test("RateLimitRequest bytes: domain, descriptor entries, per-descriptor hits_addend", () => {
  // 0a 01 'd'                       domain (1, len)
  // 12 0c                           descriptors (2, len 12)
  //   0a 06 0a 01 'k' 12 01 'v'     entries (1) {key (1), value (2)}
  //   1a 02 08 02                   hits_addend (3) UInt64Value {value (1) = 2}
  assert.equal(encodeRateLimitRequest("d", [{ entries: [["k", "v"]], hitsAddend: 2 }]).toString("hex"), "0a0164120c0a060a016b1201761a020802");
  // hits_addend 0 is an empty but present wrapper; the request-level hits_addend (3) is a plain varint.
  assert.equal(encodeRateLimitRequest("d", [{ entries: [["k", "v"]], hitsAddend: 0 }], 3).toString("hex"), "0a0164120a0a060a016b1201761a001803");
  // Values past 127 take more varint bytes (300 = ac 02).
  assert.equal(encodeRateLimitRequest("d", [{ entries: [], hitsAddend: 300 }]).toString("hex"), "0a016412051a0308ac02");
});

test("RateLimitResponse vectors of the filter's spec (filter/global/__tests__/rls_proto.spec.ts) decode as that spec expects", () => {
  assert.deepEqual(decodeRateLimitResponse(Buffer.from("0801120f08011204080510041801220308901c", "hex")), {
    overallCode: "OK",
    statuses: [{ code: "OK", currentLimit: { requestsPerUnit: 5, unit: "DAY" }, limitRemaining: 1, durationUntilResetS: 3600 }],
  });
  assert.deepEqual(decodeRateLimitResponse(Buffer.from("0802120c08021204080510012202080112020801", "hex")), {
    overallCode: "OVER_LIMIT",
    statuses: [
      { code: "OVER_LIMIT", currentLimit: { requestsPerUnit: 5, unit: "SECOND" }, limitRemaining: 0, durationUntilResetS: 1 },
      { code: "OK", limitRemaining: 0, durationUntilResetS: 0 },
    ],
  });
});

test("ShouldRateLimit over gRPC, hand-encoded, counts with /json in one count", async () => {
  await awayFromDayEnd();
  const redis = await Redis.start();
  const s = await RateLimitService.start({ redisUrl: redis.url, domain, descriptors });
  try {
    const call = async (ds: Parameters<typeof encodeRateLimitRequest>[1]) => {
      const r = await grpcUnary(s.grpcPort, SHOULD_RATE_LIMIT, encodeRateLimitRequest(domain, ds));
      assert.equal(r.grpcStatus, 0, `grpc-status ${r.grpcStatus} ${r.grpcMessage}`);
      assert.ok(r.message, "a response message");
      return decodeRateLimitResponse(r.message);
    };

    const batch = await call([{ entries: sayHello, hitsAddend: N - 1 }]);
    assert.equal(batch.overallCode, "OK");
    assert.deepEqual(batch.statuses[0]?.currentLimit, { requestsPerUnit: N, unit: "DAY" });
    assert.equal(batch.statuses[0]?.limitRemaining, 1);
    assert.ok((batch.statuses[0]?.durationUntilResetS ?? 0) > 0, "duration_until_reset is set");

    const ask = await call([{ entries: sayHello, hitsAddend: 0 }]);
    assert.equal(ask.statuses[0]?.limitRemaining, 1, "an empty UInt64Value only asks");
    const viaJson = await s.shouldRateLimit(domain, [{ entries: sayHello, hitsAddend: 0 }]);
    assert.equal(viaJson.statuses[0]?.limitRemaining, 1, "/json sees the same count");

    const over = await call([{ entries: sayHello, hitsAddend: 2 }, { entries: [["method", "other"]] }]);
    assert.equal(over.overallCode, "OVER_LIMIT");
    assert.equal(over.statuses[0]?.code, "OVER_LIMIT");
    // One status per descriptor, in order; the second matched no limit: OK, no current_limit.
    assert.equal(over.statuses[1]?.code, "OK");
    assert.equal(over.statuses[1]?.currentLimit, undefined);

    await redis.stop();
    const failed = await grpcUnary(s.grpcPort, SHOULD_RATE_LIMIT, encodeRateLimitRequest(domain, [{ entries: sayHello }]));
    console.log(`# Redis down: grpc-status ${failed.grpcStatus} (${failed.grpcMessage}), ${failed.message ? "with" : "no"} message`);
    assert.notEqual(failed.grpcStatus, 0, "no verdict while Redis is down");
  } finally {
    s.cleanup();
    redis.cleanup();
  }
});
