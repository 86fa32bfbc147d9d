// The service's config mounted as Kubernetes mounts a ConfigMap (service.ts "configmap" layout: the
// kubelet's `..data` symlink swap), which is how the controller's generated config reaches it
// (docs/global-rate-limit.md, "The controller"; the controller's own ConfigMap mounted this way:
// test/kube/slime-global-kube.test.ts): an update is picked up while running, and keeps the
// window's count; without RUNTIME_IGNOREDOTFILES=true the same mount loads NO config (the file is seen
// twice, through `..data` too: "duplicate domain") and every call fails: no verdict at all.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "./redis";
import { type DescriptorConfig, RateLimitService, awayFromDayEnd, ratelimitDir } from "./service";
import { waitFor } from "../wait";

const domain = "meltemi-configmap";
const limit = (n: number): DescriptorConfig[] => [{ key: "method", value: "sayHello", rateLimit: { unit: "day", requestsPerUnit: n } }];
const sayHello = { entries: [["method", "sayHello"]] as [string, string][] };

before(() => {
  ratelimitDir();
});


test("a mounted ConfigMap's update is loaded while running and keeps the window's count", async () => {
  await awayFromDayEnd();
  const redis = await Redis.start();
  const s = await RateLimitService.start({ redisUrl: redis.url, domain, descriptors: limit(5), configLayout: "configmap", ignoreDotFiles: true });
  try {
    assert.match(await s.loadedConfig(), /requests_per_unit=5\b/);
    const full = await s.shouldRateLimit(domain, [{ ...sayHello, hitsAddend: 5 }]);
    assert.equal(full.overallCode, "OK");
    assert.equal(full.statuses[0]?.limitRemaining, undefined, "0 left (omitted in JSON)");

    s.updateConfig(domain, limit(7));
    await waitFor("the new limit", async () => (/requests_per_unit=7\b/.test(await s.loadedConfig()) ? true : undefined), 15_000, () => s.log());
    const after = await s.shouldRateLimit(domain, [{ ...sayHello, hitsAddend: 0 }]);
    assert.deepEqual(after.statuses[0]?.currentLimit, { requestsPerUnit: 7, unit: "DAY" });
    assert.equal(after.statuses[0]?.limitRemaining, 2, "the 5 hits of this window still count under the new limit");
  } finally {
    s.cleanup();
    redis.cleanup();
  }
});

test("without RUNTIME_IGNOREDOTFILES the mounted ConfigMap loads no config: every call fails", async () => {
  const redis = await Redis.start();
  const s = await RateLimitService.start({ redisUrl: redis.url, domain, descriptors: limit(5), configLayout: "configmap", ignoreDotFiles: false, waitForDomain: false });
  try {
    await waitFor("the load error", async () => (s.log().includes(`duplicate domain '${domain}'`) ? true : undefined), 15_000, () => s.log());
    assert.equal((await s.loadedConfig()).trim(), "", "no config loaded");
    // ShouldRateLimit fails ("no rate limit configuration loaded", src/service/ratelimit.go): /json
    // answers 400 with no verdict, so the filter's fail mode applies, not the limit.
    const v = await s.shouldRateLimit(domain, [sayHello]);
    assert.equal(v.httpStatus, 400);
    assert.equal(v.overallCode, undefined);
    assert.match(s.log(), /no rate limit configuration loaded/);
  } finally {
    s.cleanup();
    redis.cleanup();
  }
});
