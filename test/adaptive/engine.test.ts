// The adaptive engine with a scripted metric source (its decisions, not Prometheus: the real
// Prometheus is in smart-limiter-envoy.test.ts): hysteresis, tolerance, minimum update interval,
// failures keeping the last good quotas, bad templates, PromQL substitution, the SmartLimiter
// translated into the filter's buckets.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AdaptiveEngine } from "../../controller/adaptive/engine";
import { AdaptiveMetrics } from "../../controller/adaptive/metrics";
import { BASE_SET, limiterKey, type AdaptiveLimiter } from "../../controller/translate/adaptive_limiter";
import { adaptiveLimitersOf } from "../../controller/translate/adaptive_limiters";
import { endpointSlicePods, readyPodNames } from "../../controller/adaptive/pods";
import { MetricError, type MetricSource } from "../../controller/adaptive/prometheus";
import { DEFAULT_QUERIES, substitute } from "../../controller/adaptive/queries";
import { readSmartLimiter } from "../../controller/translate/smart_limiter";
import { Diagnostics } from "../../controller/translate/diagnostics";
import { emptySnapshot } from "../../controller/translate/snapshot";
import { translate } from "../../controller/translate/translate";
import { assertValidFilterConfig, TEST_OPTIONS } from "../controller/support";

class Scripted implements MetricSource {
  value = 0;
  fail: MetricError | null = null;
  readonly queries: string[] = [];
  async query(promql: string): Promise<number> {
    this.queries.push(promql);
    if (this.fail) throw this.fail;
    return this.value;
  }
}

const pods = (n: number) => ({ podsOf: () => Array.from({ length: n }, (_, i) => `p-${i}`) });

function limiter(condition: string, quota: string, strategy: "single" | "average" = "single"): AdaptiveLimiter {
  return {
    source: { apiVersion: "microservice.slime.io/v1alpha2", kind: "SmartLimiter", namespace: "ns", name: "svc" },
    namespace: "ns",
    service: "svc",
    host: "svc.ns.svc.cluster.local",
    sets: [{ name: BASE_SET, descriptors: [{ condition, quota, fillIntervalMs: 1000, strategy, path: "spec.sets._base.descriptor[0]" }] }],
  };
}

const quotaOf = (r: { quotas: Map<string, { quota: number }[]> }) => r.quotas.get(BASE_SET)?.[0]?.quota;

test("a condition must hold for 2 refreshes before the limit is added or lifted", async () => {
  const src = new Scripted();
  const engine = new AdaptiveEngine(src, pods(3), { queries: DEFAULT_QUERIES });
  const l = [limiter("{{._base.cpu.sum}}>100", "30/{{._base.pod}}")];
  let t = 0;
  const step = async (v: number) => (await engine.refresh(l, (t += 1000)))[0]!;
  src.value = 50;
  assert.equal(quotaOf(await step(50)), undefined);
  src.value = 150;
  let r = await step(150);
  assert.equal(quotaOf(r), undefined, "one reading is not enough");
  assert.equal(r.changed, false);
  r = await step(150);
  assert.equal(quotaOf(r), 10);
  assert.equal(r.changed, true);
  assert.deepEqual(r.status.metricStatus, { "_base.cpu.sum": "150", "_base.pod": "3" });
  src.value = 50; // one dip
  r = await step(50);
  assert.equal(quotaOf(r), 10, "a single dip does not lift the limit");
  src.value = 150;
  r = await step(150);
  assert.equal(quotaOf(r), 10);
  assert.equal(r.changed, false);
  src.value = 50;
  await step(50);
  r = await step(50);
  assert.equal(quotaOf(r), undefined, "lifted after 2 readings");
  assert.equal(r.changed, true);
  assert.equal(await AdaptiveMetrics.value(engine.metrics.quotaUpdates), 2);
});

test("quota changes within the tolerance are ignored; the minimum update interval spaces changes", async () => {
  const src = new Scripted();
  let podCount = 10;
  const engine = new AdaptiveEngine(src, { podsOf: () => Array.from({ length: podCount }, (_, i) => `p-${i}`) }, { queries: DEFAULT_QUERIES, confirmations: 1, minUpdateIntervalMs: 5000 });
  const l = [limiter("true", "1000/{{._base.pod}}")];
  let r = (await engine.refresh(l, 0))[0]!;
  assert.equal(quotaOf(r), 100);
  podCount = 11; // 91: 9% less, within 10%
  r = (await engine.refresh(l, 10_000))[0]!;
  assert.equal(quotaOf(r), 100);
  assert.equal(r.changed, false);
  podCount = 20; // 50: a real change...
  r = (await engine.refresh(l, 12_000))[0]!;
  assert.equal(quotaOf(r), 50);
  podCount = 5; // ...but the next one waits for the interval
  r = (await engine.refresh(l, 13_000))[0]!;
  assert.equal(quotaOf(r), 50, "too soon after the last change");
  r = (await engine.refresh(l, 17_000))[0]!;
  assert.equal(quotaOf(r), 200);
});

test("strategy average shares the quota over the ready pods unless the quota already divides by them", async () => {
  const engine = new AdaptiveEngine(new Scripted(), pods(4), { queries: DEFAULT_QUERIES, confirmations: 1 });
  assert.equal(quotaOf((await engine.refresh([limiter("true", "100", "average")], 0))[0]!), 25);
  const engine2 = new AdaptiveEngine(new Scripted(), pods(4), { queries: DEFAULT_QUERIES, confirmations: 1 });
  assert.equal(quotaOf((await engine2.refresh([limiter("true", "100/{{._base.pod}}", "average")], 0))[0]!), 25, "not divided twice");
  const engine3 = new AdaptiveEngine(new Scripted(), pods(4), { queries: DEFAULT_QUERIES, confirmations: 1 });
  assert.equal(quotaOf((await engine3.refresh([limiter("true", "100", "single")], 0))[0]!), 100);
});

test("metric failures keep the last good quotas, say why, and are counted", async () => {
  const src = new Scripted();
  const engine = new AdaptiveEngine(src, pods(2), { queries: DEFAULT_QUERIES, confirmations: 1 });
  const l = [limiter("{{._base.cpu.sum}}>100", "10")];
  src.value = 500;
  assert.equal(quotaOf((await engine.refresh(l, 0))[0]!), 10);
  for (const [fail, reason] of [
    [new MetricError("PrometheusUnreachable", "connect ECONNREFUSED"), "PrometheusUnreachable"],
    [new MetricError("PrometheusTimeout", "no answer within 1000 ms"), "PrometheusTimeout"],
    [new MetricError("PrometheusError", "HTTP 422 execution: bad"), "PrometheusError"],
    [new MetricError("NoData", "returned no series"), "NoData"],
  ] as const) {
    src.fail = fail;
    src.value = 0; // would lift the limit, if it were read
    const r = (await engine.refresh(l, 1000))[0]!;
    assert.equal(quotaOf(r), 10, reason);
    assert.equal(r.changed, false);
    const c = r.status.conditions.find((c) => c.type === "MetricsAvailable")!;
    assert.equal(c.status, "False");
    assert.equal(c.reason, reason);
    assert.match(c.message, /the last good quotas stay in force/);
    assert.equal(await AdaptiveMetrics.value(engine.metrics.queryFailures, { reason }), 1);
  }
  // Before any good reading, nothing is applied and the status says so.
  const fresh = new AdaptiveEngine(src, pods(2), { queries: DEFAULT_QUERIES });
  const r = (await fresh.refresh(l, 0))[0]!;
  assert.equal(quotaOf(r), undefined);
  assert.match(r.status.conditions[0]!.message, /no quotas were ever resolved/);
});

test("a bad template is a Ready=False condition with the reason; the other descriptors still apply", async () => {
  const engine = new AdaptiveEngine(new Scripted(), pods(2), { queries: DEFAULT_QUERIES, confirmations: 1 });
  const l = limiter("true", "10");
  l.sets[0]!.descriptors.push(
    { condition: "{{._base.cpu.avg}}>1", quota: "5", fillIntervalMs: 1000, strategy: "single", path: "spec.sets._base.descriptor[1]", match: { method: { exact: "a" } } },
    { condition: "{{._base.pod}} >", quota: "5", fillIntervalMs: 1000, strategy: "single", path: "spec.sets._base.descriptor[2]", match: { method: { exact: "b" } } },
  );
  const r = (await engine.refresh([l], 0))[0]!;
  assert.equal(quotaOf(r), 10);
  const ready = r.status.conditions.find((c) => c.type === "Ready")!;
  assert.equal(ready.status, "False");
  assert.equal(ready.reason, "InvalidTemplate");
  assert.match(ready.message, /descriptor\[1\]: \{\{\._base\.cpu\.avg\}\}: no query named "cpu\.avg"/);
  assert.match(ready.message, /descriptor\[2\]: expected a number/);
});

test("$namespace and $pod_name substitution (pod names escaped as a regex inside a PromQL string)", async () => {
  assert.equal(
    substitute(DEFAULT_QUERIES.get("cpu.sum")!, { namespace: "prod", service: "s", set: "_base", podNames: ["b-1", "a.0"] }),
    'sum(container_cpu_usage_seconds_total{namespace="prod",pod=~"a\\\\.0|b-1",image=""})',
  );
  assert.match(substitute('x{pod=~"$pod_name"}', { namespace: "n", service: "s", set: "_base", podNames: [] }), /pod=~"\$\^"/, "no pods matches nothing");
  const src = new Scripted();
  src.value = 1;
  const engine = new AdaptiveEngine(src, pods(2), { queries: DEFAULT_QUERIES });
  await engine.refresh([limiter("{{._base.cpu.max}}>1", "1")], 0);
  assert.deepEqual(src.queries, ['max(container_cpu_usage_seconds_total{namespace="ns",pod=~"p-0|p-1",image=""})']);
});

test("ready pods from EndpointSlices; subsets from pod labels", () => {
  const slices = [
    { metadata: { namespace: "ns", labels: { "kubernetes.io/service-name": "svc" } }, endpoints: [
      { conditions: { ready: true }, targetRef: { kind: "Pod", name: "a" } },
      { conditions: {}, targetRef: { kind: "Pod", name: "b" } },
      { conditions: { ready: false }, targetRef: { kind: "Pod", name: "c" } },
    ] },
    { metadata: { namespace: "ns", labels: { "kubernetes.io/service-name": "svc" } }, endpoints: [{ targetRef: { kind: "Pod", name: "a" } }] },
    { metadata: { namespace: "ns", labels: { "kubernetes.io/service-name": "other" } }, endpoints: [{ targetRef: { kind: "Pod", name: "z" } }] },
  ];
  assert.deepEqual(readyPodNames(slices, "ns", "svc"), ["a", "b"]);
  const src = endpointSlicePods({
    slices,
    podLabels: (namespace, name) => (namespace === "ns" ? new Map([["a", { version: "v1" }], ["b", { version: "v2" }]]).get(name) : undefined),
    subsetLabels: (_h, s) => (s === "v1" ? { version: "v1" } : undefined),
  });
  const l = { namespace: "ns", service: "svc", host: "svc.ns.svc.cluster.local" };
  assert.deepEqual(src.podsOf(l, "v1"), ["a"]);
  assert.match(src.podsOf(l, "v3") as string, /no DestinationRule defines subset "v3"/);
});

test("EndpointSlices that could not be read: the pods are unknown (PodsUnknown, last good quotas), not zero", async () => {
  const slice = { metadata: { namespace: "ns", labels: { "kubernetes.io/service-name": "svc" } }, endpoints: [{ targetRef: { kind: "Pod", name: "a" } }, { targetRef: { kind: "Pod", name: "b" } }] };
  const readable = endpointSlicePods({ slices: [slice] });
  const failed = endpointSlicePods({ slices: [], unreadable: new Map([["ns/svc", "HTTP 503"]]) });
  const l = { namespace: "ns", service: "svc", host: "svc.ns.svc.cluster.local" };
  assert.match(failed.podsOf(l, "_base") as string, /EndpointSlices of ns\/svc could not be read: HTTP 503/);
  let current = readable;
  const engine = new AdaptiveEngine(new Scripted(), { podsOf: (lim, set) => current.podsOf(lim, set) }, { queries: DEFAULT_QUERIES, confirmations: 1 });
  const lim = [limiter("true", "100", "average")];
  assert.equal(quotaOf((await engine.refresh(lim, 0))[0]!), 50, "100 over 2 ready pods");
  current = failed;
  const r = (await engine.refresh(lim, 1000))[0]!;
  assert.equal(quotaOf(r), 50, "the last good quota stays (zero pods would have made it an error or a division by zero)");
  const c = r.status.conditions.find((c) => c.type === "MetricsAvailable")!;
  assert.equal(c.reason, "PodsUnknown");
  assert.match(c.message, /HTTP 503/);
});

const service = {
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "reviews", namespace: "default" },
  spec: { clusterIP: "10.0.0.9", selector: { app: "reviews" }, ports: [{ name: "tcp-metaprotocol-dubbo", port: 9080, targetPort: 9080 }] },
};

test("Slime's documented SmartLimiters read as documented; unsupported fields are reported, not dropped", () => {
  const diags = new Diagnostics();
  // doc: "single smartlimiter in mesh", "smartlimiter with match in mesh", "global average", "global share"
  const sl = (descriptor: object[]) => ({ apiVersion: "microservice.slime.io/v1alpha2", kind: "SmartLimiter", metadata: { name: "reviews", namespace: "default" }, spec: { sets: { _base: { descriptor } } } });
  const single = readSmartLimiter(sl([{ action: { fill_interval: { seconds: 60 }, quota: "100", strategy: "single" }, condition: "true", target: { port: 9080 } }]), "cluster.local", diags)!;
  assert.equal(single.port, 9080);
  assert.equal(single.host, "reviews.default.svc.cluster.local");
  assert.deepEqual(single.sets[0]!.descriptors[0], { condition: "true", quota: "100", fillIntervalMs: 60_000, strategy: "single", path: "spec.sets._base.descriptor[0]" });
  const matched = readSmartLimiter(sl([{ action: { fill_interval: { seconds: 60 }, quota: "5", strategy: "single" }, condition: "true", target: { port: 9080 }, match: [{ name: "method", exact_match: "sayHello" }, { name: "version", regex_match: "v[0-9]+", invert_match: true }] }]), "cluster.local", diags)!;
  assert.deepEqual(matched.sets[0]!.descriptors[0]!.match, { method: { exact: "sayHello" }, version: { regex: "v[0-9]+", invert: true } });
  assert.equal(diags.items.length, 0, JSON.stringify(diags.items));
  const global = readSmartLimiter(sl([{ action: { fill_interval: { seconds: 60 }, quota: "10", strategy: "global" }, condition: "true", target: { port: 9080 } }]), "cluster.local", diags)!;
  // "global share": one counter in Envoy's rate limit service, not a bucket (translate/slime_global.ts).
  assert.equal(global.sets[0]!.descriptors.length, 0);
  assert.deepEqual(global.globals, [{ requestsPerUnit: 10, unit: "minute", path: "spec.sets._base.descriptor[0]" }]);
  assert.equal(diags.items.length, 0, JSON.stringify(diags.items));
  const everyFiveSeconds = readSmartLimiter(sl([{ action: { fill_interval: { seconds: 5 }, quota: "10", strategy: "global" }, condition: "true" }]), "cluster.local", diags);
  assert.equal(everyFiveSeconds, null, "the rate limit service counts per second, minute, hour or day only");
  assert.equal(diags.items[0]!.reason, "InvalidDuration");
  const outbound = readSmartLimiter(sl([{ action: { fill_interval: { seconds: 10 }, quota: "2" }, condition: "true", target: { direction: "outbound", route: ["reviews.default.svc.cluster.local:80/default"] } }]), "cluster.local", diags)!;
  assert.equal(outbound.sets[0]!.descriptors.length, 0);
  assert.ok(diags.items.some((d) => d.reason === "OutboundNotSupported"));
});

test("SmartLimiter through translate: no quotas yet -> no buckets; resolved quotas -> the filter's buckets; status lists it", async () => {
  const sl = {
    apiVersion: "microservice.slime.io/v1alpha2",
    kind: "SmartLimiter",
    metadata: { name: "reviews", namespace: "default", generation: 3 },
    spec: { sets: { _base: { descriptor: [
      { action: { fill_interval: { seconds: 1 }, quota: "30/{{._base.pod}}", strategy: "average" }, condition: "true", match: [{ name: "method", exact_match: "sayHello" }] },
      { action: { fill_interval: { seconds: 60 }, quota: "300/{{._base.pod}}", strategy: "average" }, condition: "true" },
    ] } } },
  };
  const snapshot = { ...emptySnapshot(), services: [service] as never[], smartLimiters: [sl] };
  const pluginConfig = (s: typeof snapshot & { adaptiveQuotas?: Map<string, never> }) => {
    const r = translate(s, TEST_OPTIONS);
    const wp = r.objects.find((o) => o.kind === "WasmPlugin") as { spec: { pluginConfig: { localRateLimit?: unknown } } };
    assertValidFilterConfig(wp.spec.pluginConfig, "server plugin");
    return { config: wp.spec.pluginConfig, status: r.status };
  };
  const before = pluginConfig(snapshot);
  assert.deepEqual(before.config.localRateLimit, {});
  // No engine ran (render): nothing of it is in force, and its status says so.
  const st = before.status.find((s) => s.object.kind === "SmartLimiter")!;
  assert.deepEqual([st.conditions[0]!.status, st.conditions[0]!.reason], ["False", "QuotasAtRuntime"]);

  const [l] = adaptiveLimitersOf(snapshot);
  const engine = new AdaptiveEngine(new Scripted(), pods(3), { queries: DEFAULT_QUERIES, confirmations: 1 });
  const [r] = await engine.refresh([l!], 0);
  const after = pluginConfig({ ...snapshot, adaptiveQuotas: new Map([[limiterKey(l!.source), r!.quotas]]) as never });
  assert.deepEqual(after.config.localRateLimit, {
    tokenBucket: { maxTokens: 100, tokensPerFill: 100, fillIntervalMs: 60_000 },
    conditions: [{ match: { method: { exact: "sayHello" } }, tokenBucket: { maxTokens: 10, tokensPerFill: 10, fillIntervalMs: 1000 } }],
  });
  assert.equal(after.status.find((s) => s.object.kind === "SmartLimiter")!.conditions[0]!.status, "True");
});

test("RpcRateLimit adaptive: the same engine; adaptive buckets come before the local ones", async () => {
  const rl = {
    apiVersion: "meltemi.dev/v1alpha1",
    kind: "RpcRateLimit",
    metadata: { name: "reviews-limit", namespace: "default" },
    spec: {
      host: "reviews",
      local: { tokenBucket: { maxTokens: 1000, tokensPerFill: 1000, fillInterval: "1s" }, conditions: [{ match: { method: { exact: "b" } }, tokenBucket: { maxTokens: 5, fillInterval: "1s" } }] },
      adaptive: { sets: { _base: { descriptors: [
        { condition: "{{._base.cpu.sum}} > 2 && {{._base.pod}} >= 1", quota: "90", fillInterval: "1s", strategy: "average", match: { method: { exact: "a" } } },
      ] } } },
    },
  };
  const snapshot = { ...emptySnapshot(), services: [service] as never[], rpcRateLimits: [rl] as never[] };
  const [l] = adaptiveLimitersOf(snapshot);
  assert.equal(l!.service, "reviews");
  assert.equal(l!.sets[0]!.descriptors[0]!.fillIntervalMs, 1000);
  const src = new Scripted();
  src.value = 3;
  const engine = new AdaptiveEngine(src, pods(3), { queries: DEFAULT_QUERIES, confirmations: 1 });
  const [r] = await engine.refresh([l!], 0);
  const res = translate({ ...snapshot, adaptiveQuotas: new Map([[limiterKey(l!.source), r!.quotas]]) }, TEST_OPTIONS);
  const wp = res.objects.find((o) => o.kind === "WasmPlugin") as { spec: { pluginConfig: { localRateLimit?: unknown } } };
  assertValidFilterConfig(wp.spec.pluginConfig, "server plugin");
  assert.deepEqual(wp.spec.pluginConfig.localRateLimit, {
    conditions: [
      { match: { method: { exact: "a" } }, tokenBucket: { maxTokens: 30, tokensPerFill: 30, fillIntervalMs: 1000 } },
      { match: { method: { exact: "b" } }, tokenBucket: { maxTokens: 5, fillIntervalMs: 1000 } },
    ],
    tokenBucket: { maxTokens: 1000, tokensPerFill: 1000, fillIntervalMs: 1000 },
  });
  assert.equal(res.status.find((s) => s.object.kind === "RpcRateLimit")!.conditions[0]!.status, "True");
  // Schema: neither local nor adaptive is refused; a bad strategy too.
  const bad = translate({ ...snapshot, rpcRateLimits: [{ ...rl, spec: { host: "reviews" } }, { ...rl, metadata: { name: "x", namespace: "default" }, spec: { ...rl.spec, adaptive: { sets: { _base: { descriptors: [{ condition: "true", quota: "1", fillInterval: "1s", strategy: "global" }] } } } } }] as never[] }, TEST_OPTIONS);
  const reasons = bad.status.filter((s) => s.object.kind === "RpcRateLimit").map((s) => s.conditions[0]!.message);
  assert.ok(reasons.some((m) => /must match a schema in anyOf/.test(m)), reasons.join(" | "));
  assert.ok(reasons.some((m) => /strategy/.test(m)), reasons.join(" | "));
});

test("a subset set gets its own server plugin selecting the subset's pods, with that set's buckets", async () => {
  const dr = { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "reviews", namespace: "default" }, spec: { host: "reviews", subsets: [{ name: "v2", labels: { version: "v2" } }] } };
  const sl = {
    apiVersion: "microservice.slime.io/v1alpha2", kind: "SmartLimiter", metadata: { name: "reviews", namespace: "default" },
    // doc/en/smart_limiter.md "Adaptive ratelimit based on metrics": a CPU condition on subset v2
    spec: { sets: { v2: { descriptor: [{ action: { fill_interval: { seconds: 60 }, quota: "1" }, condition: "{{.v2.cpu.sum}}>10" }] } } },
  };
  const snapshot = { ...emptySnapshot(), services: [service] as never[], destinationRules: [dr] as never[], smartLimiters: [sl] };
  const [l] = adaptiveLimitersOf(snapshot);
  const src = new Scripted();
  src.value = 178.349446242; // the documented v2.cpu.sum
  const engine = new AdaptiveEngine(src, { podsOf: (_l, set) => (set === "v2" ? ["reviews-v2-0"] : ["reviews-v1-0", "reviews-v2-0", "reviews-v3-0"]) }, { queries: DEFAULT_QUERIES, confirmations: 1 });
  const [r] = await engine.refresh([l!], 0);
  assert.deepEqual(r!.status.metricStatus, { "_base.pod": "3", "v2.cpu.sum": "178.349446242", "v2.pod": "1" });
  assert.deepEqual(r!.status.ratelimitStatus, { v2: { descriptor: [{ action: { quota: "1", fill_interval: { seconds: 60 }, strategy: "single" } }] } });
  assert.match(src.queries[0]!, /pod=~"reviews-v2-0"/, "the query reads the subset's pods");
  const res = translate({ ...snapshot, adaptiveQuotas: new Map([[limiterKey(l!.source), r!.quotas]]) }, TEST_OPTIONS);
  const plugins = res.objects.filter((o) => o.kind === "WasmPlugin") as { metadata: { name: string }; spec: { selector: unknown; pluginConfig: { name: string; localRateLimit?: unknown } } }[];
  assert.equal(plugins.length, 2);
  const base = plugins.find((p) => p.spec.pluginConfig.name === "reviews.default:9080/server")!;
  const v2 = plugins.find((p) => p.spec.pluginConfig.name === "reviews.default:9080/server/v2")!;
  assert.deepEqual(base.spec.localRateLimit ?? base.spec.pluginConfig.localRateLimit, {});
  assert.deepEqual(v2.spec.selector, { matchLabels: { app: "reviews", version: "v2" } });
  assert.deepEqual(v2.spec.pluginConfig.localRateLimit, { tokenBucket: { maxTokens: 1, tokensPerFill: 1, fillIntervalMs: 60_000 } });
  for (const p of plugins) assertValidFilterConfig(p.spec.pluginConfig, p.metadata.name);
  assert.notEqual(base.metadata.name, v2.metadata.name);
});

test("a restarted engine starts from the quotas the status says are in force; a constant condition applies at once", async () => {
  const src = new Scripted();
  src.fail = new MetricError("PrometheusUnreachable", "down");
  const engine = new AdaptiveEngine(src, pods(3), { queries: DEFAULT_QUERIES });
  const l = limiter("{{._base.cpu.sum}}>100", "30/{{._base.pod}}", "average");
  const seeded = engine.seed(l, { _base: { descriptor: [{ action: { quota: "10", fill_interval: { seconds: 1 }, strategy: "average" } }] } });
  assert.equal(seeded.get(BASE_SET)?.[0]?.quota, 10);
  let r = (await engine.refresh([l], 0))[0]!;
  assert.equal(quotaOf(r), 10, "Prometheus down at start: the seeded quotas hold");
  assert.match(r.status.conditions[0]!.message, /the last good quotas stay in force/);
  src.fail = null;
  src.value = 50;
  r = (await engine.refresh([l], 1000))[0]!;
  assert.equal(quotaOf(r), 10, "one reading below does not lift it");
  r = (await engine.refresh([l], 2000))[0]!;
  assert.equal(quotaOf(r), undefined);
  // A status that does not match the spec (another interval) seeds nothing.
  const other = new AdaptiveEngine(src, pods(3), { queries: DEFAULT_QUERIES });
  assert.equal(other.seed(l, { _base: { descriptor: [{ action: { quota: "10", fill_interval: { seconds: 60 }, strategy: "average" } }] } }).size, 0);
  const constant = new AdaptiveEngine(src, pods(3), { queries: DEFAULT_QUERIES });
  assert.equal(quotaOf((await constant.refresh([limiter("true", "7")], 0))[0]!), 7);
});

test("a SmartLimiter of a service that is not Meltemi's is left to Slime: no limiter, no output, Ready with an info", () => {
  const http = { apiVersion: "v1", kind: "Service", metadata: { name: "productpage", namespace: "default" }, spec: { clusterIP: "10.0.0.7", selector: { app: "productpage" }, ports: [{ name: "http", port: 9080, targetPort: 9080 }] } };
  const sl = { apiVersion: "microservice.slime.io/v1alpha2", kind: "SmartLimiter", metadata: { name: "productpage", namespace: "default" }, spec: { sets: { _base: { descriptor: [{ action: { fill_interval: { seconds: 60 }, quota: "10/{{._base.pod}}", strategy: "average" }, condition: "true", target: { port: 9080 } }] } } } };
  const snapshot = { ...emptySnapshot(), services: [http] as never[], smartLimiters: [sl] };
  assert.deepEqual(adaptiveLimitersOf(snapshot), []);
  const r = translate(snapshot, TEST_OPTIONS);
  assert.equal(r.objects.length, 0);
  assert.ok(r.diagnostics.some((d) => d.reason === "NotAMeltemiService" && d.severity === "info"));
  assert.equal(r.status.find((s) => s.object.kind === "SmartLimiter")!.conditions[0]!.status, "True");
});
