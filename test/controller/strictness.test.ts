// Issue 15's silent cases, made visible: misspelled fields refuse the object (never applied more
// broadly), Aeraki's own validation rules and idioms with Aeraki's meaning, Slime's field spellings and
// sidecar limiters, and Ready=False for every object whose intent is not fully in force.
import { test } from "node:test";
import assert from "node:assert/strict";
import { render } from "../../controller/render/render";
import { readyStatus } from "../../controller/translate/status";
import { emptySnapshot, type Snapshot } from "../../controller/translate/snapshot";
import { translate, type TranslateResult } from "../../controller/translate/translate";
import { assertInvariants, filterConfigsOf, TEST_OPTIONS } from "./support";

const HOST = "reviews.shop.svc.cluster.local";
const service = (name = "reviews", port = "tcp-metaprotocol-dubbo") => ({
  apiVersion: "v1", kind: "Service", metadata: { name, namespace: "shop" },
  spec: { clusterIP: "10.0.0.9", selector: { app: name }, ports: [{ name: port, port: 20880, targetPort: 20880 }] },
});
const metaRouter = (spec: Record<string, unknown>, name = "m") => ({ apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "MetaRouter", metadata: { name, namespace: "shop" }, spec });
const dap = (spec: Record<string, unknown>) => ({ apiVersion: "dubbo.aeraki.io/v1alpha1", kind: "DubboAuthorizationPolicy", metadata: { name: "p", namespace: "shop" }, spec });
const smartLimiter = (spec: Record<string, unknown>) => ({ apiVersion: "microservice.slime.io/v1alpha2", kind: "SmartLimiter", metadata: { name: "reviews", namespace: "shop" }, spec });
const snap = (parts: Partial<Snapshot>): Snapshot => ({ ...emptySnapshot(), services: [service()] as never[], ...parts });
const run = (parts: Partial<Snapshot>) => translate(snap(parts), TEST_OPTIONS);
const ready = (r: TranslateResult, kind: string) => {
  const c = r.status.find((s) => s.object.kind === kind)!.conditions[0]!;
  return `${c.status} ${c.reason}`;
};
const errors = (r: TranslateResult) => r.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.reason} ${d.path ?? ""}`);
const clientRoutes = (r: TranslateResult) => filterConfigsOf(r.objects as never).filter((c) => c.where.startsWith("EnvoyFilter")).map((c) => (c.config as { routes: unknown[] }).routes);
const serverConfig = (r: TranslateResult) => filterConfigsOf(r.objects as never).find((c) => c.where.startsWith("WasmPlugin"))!.config as Record<string, unknown>;
const route = (extra: Record<string, unknown>) => ({ route: [{ destination: { host: HOST, subset: "v1" } }], ...extra });

test("MetaRouter `mach:` is refused, not a catch-all route", () => {
  const r = run({ metaRouters: [metaRouter({ hosts: [HOST], routes: [route({ mach: { attributes: { method: { exact: "sayHello" } } } })] })] as never[] });
  assert.deepEqual(errors(r), ["UnknownField spec.routes[0].mach"]);
  assert.equal(ready(r, "MetaRouter"), "False UnknownField");
  assert.deepEqual(clientRoutes(r), [], "no routing generated from the refused MetaRouter");
  // Spelled right, the route matches the method only.
  const ok = run({ metaRouters: [metaRouter({ hosts: [HOST], routes: [route({ match: { attributes: { method: { exact: "sayHello" } } } })] })] as never[] });
  assert.deepEqual((clientRoutes(ok)[0]![0] as { match: unknown }).match, { method: { exact: "sayHello" } });
  assertInvariants(ok);
});

test("MetaRouter `weigth:` is refused, not 100% to the other destination", () => {
  const r = run({ metaRouters: [metaRouter({ hosts: [HOST], routes: [{ route: [{ destination: { host: HOST, subset: "v1" }, weigth: 20 }, { destination: { host: HOST, subset: "v2" }, weight: 80 }] }] })] as never[] });
  assert.deepEqual(errors(r), ["UnknownField spec.routes[0].route[0].weigth"]);
  assert.deepEqual(clientRoutes(r), []);
});

test("DubboAuthorizationPolicy DENY with `namespace:` is refused, not a deny of every caller", () => {
  const r = run({ dubboAuthorizationPolicies: [dap({ action: "DENY", rules: [{ from: [{ source: { namespace: ["dev"] } }] }] })] as never[] });
  assert.deepEqual(errors(r), ["UnknownField spec.rules[0].from[0].source.namespace"]);
  assert.equal(ready(r, "DubboAuthorizationPolicy"), "False UnknownField");
  assert.deepEqual(serverConfig(r).authorization ?? [], [], "no policy enforced from the refused object");
  const ok = run({ dubboAuthorizationPolicies: [dap({ action: "DENY", rules: [{ from: [{ source: { namespaces: ["dev"] } }] }] })] as never[] });
  assert.deepEqual((serverConfig(ok).authorization as { rules: unknown }[])[0]!.rules, [{ from: [{ namespaces: ["dev"] }] }]);
});

test("unknown fields refuse ApplicationProtocol, RpcRouter and SmartLimiter too", () => {
  const ap = run({ applicationProtocols: [{ apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "ApplicationProtocol", metadata: { name: "dubbo" }, spec: { protocol: "dubbo", codec: "aeraki.meta_protocol.codec.dubbo", codek: "x" } }] as never[] });
  assert.deepEqual(errors(ap), ["UnknownField spec.codek"]);
  const rr = run({ rpcRouters: [{ apiVersion: "meltemi.dev/v1alpha1", kind: "RpcRouter", metadata: { name: "r", namespace: "shop" }, spec: { host: "reviews", routes: [{ mach: {}, destinations: [{ subset: "v1" }] }] } }] as never[] });
  assert.deepEqual(errors(rr), ["UnknownField spec.routes[0].mach"]);
  assert.deepEqual(clientRoutes(rr), []);
  const sl = run({ smartLimiters: [smartLimiter({ sets: { _base: { descriptor: [{ action: { fill_interval: { seconds: 1 }, quota: "10" }, condition: "true", mach: [{ name: "method", exact_match: "a" }] }] } } })] as never[] });
  assert.deepEqual(errors(sl), ["UnknownField spec.sets._base.descriptor[0].mach"]);
  assert.equal(ready(sl, "SmartLimiter"), "False UnknownField");
});

test("Aeraki's weight rules: several destinations add up to 100 (30+30 and 150+50 refused); a lone one takes all", () => {
  const split = (a: number, b: number) => run({ metaRouters: [metaRouter({ hosts: [HOST], routes: [{ route: [{ destination: { host: HOST, subset: "v1" }, weight: a }, { destination: { host: HOST, subset: "v2" }, weight: b }] }] })] as never[] });
  assert.deepEqual(errors(split(30, 30)), ["InvalidWeights spec.routes[0].route"]);
  assert.deepEqual(errors(split(150, 50)), ["InvalidWeights spec.routes[0].route[0].weight"]);
  assert.deepEqual(errors(split(20, 80)), []);
  assert.deepEqual((clientRoutes(split(20, 80))[0]![0] as { destinations: { weight: number }[] }).destinations.map((d) => d.weight), [20, 80]);
  const lone = run({ metaRouters: [metaRouter({ hosts: [HOST], routes: [{ route: [{ destination: { host: HOST }, weight: 0 }] }] })] as never[] });
  assert.deepEqual(errors(lone), []);
  assert.equal(clientRoutes(lone).length, 1);
});

test("Aeraki's match idioms: regex \"*\" and exact \"\" check presence (a null attribute: strictness_review.test.ts)", () => {
  const r = run({ metaRouters: [metaRouter({ hosts: [HOST], routes: [route({ match: { attributes: { a: { regex: "*" }, b: { exact: "" }, e: { exact: "x" } } } })] })] as never[] });
  assert.deepEqual(errors(r), []);
  assert.deepEqual((clientRoutes(r)[0]![0] as { match: unknown }).match, { a: { present: true }, b: { present: true }, e: { exact: "x" } });
  // An empty regex or prefix is no idiom: Aeraki's webhook and Envoy refuse them.
  const empty = run({ metaRouters: [metaRouter({ hosts: [HOST], routes: [route({ match: { attributes: { a: { regex: "" }, b: { prefix: "" } } } })] })] as never[] });
  assert.deepEqual(errors(empty), ["InvalidMatch spec.routes[0].match.attributes.a.regex", "InvalidMatch spec.routes[0].match.attributes.b.prefix"]);
  // The same in a localRateLimit condition.
  const l = run({ metaRouters: [metaRouter({ hosts: [HOST], localRateLimit: { conditions: [{ match: { attributes: { method: { regex: "*" } } }, tokenBucket: { maxTokens: 5, fillInterval: "1s" } }] } })] as never[] });
  assert.deepEqual((serverConfig(l).localRateLimit as { conditions: { match: unknown }[] }).conditions[0]!.match, { method: { present: true } });
});

test("Aeraki's other MetaRouter rules: one host, buckets of at least 1 token, mutations with key and value", () => {
  assert.deepEqual(errors(run({ metaRouters: [metaRouter({ hosts: [HOST, "other.shop.svc.cluster.local"], routes: [route({})] })] as never[] })), ["ExtraHosts spec.hosts"]);
  assert.deepEqual(errors(run({ metaRouters: [metaRouter({ hosts: [HOST], localRateLimit: { tokenBucket: { maxTokens: 0, fillInterval: "1s" } } })] as never[] })), ["InvalidBucket spec.localRateLimit.tokenBucket.maxTokens"]);
  assert.deepEqual(errors(run({ metaRouters: [metaRouter({ hosts: [HOST], routes: [route({ requestMutation: [{ key: "k", value: "" }] })] })] as never[] })), ["InvalidMutation spec.routes[0].requestMutation[0]"]);
  assert.deepEqual(errors(run({ metaRouters: [metaRouter({ hosts: [HOST] })] as never[] })), ["NothingToApply spec"]);
});

test("not in force -> not Ready: a global limit whose service has no gRPC port, gateway-only MetaRouters, protocols without a codec", () => {
  const globalRateLimit = { domain: "d", rateLimitService: "outbound|8081||rls.shop.svc.cluster.local", match: {}, descriptors: [{ property: "method", descriptorKey: "method" }] };
  const rls = (portName: string, appProtocol?: string) => ({ apiVersion: "v1", kind: "Service", metadata: { name: "rls", namespace: "shop" }, spec: { selector: { app: "rls" }, ports: [{ name: portName, port: 8081, ...(appProtocol ? { appProtocol } : {}) }] } });
  // An HTTP/1.1 port: the service's own sidecar (if any) would parse HTTP/1.1, so no patch would do.
  const global = run({ services: [service(), rls("http-rls")] as never[], metaRouters: [metaRouter({ hosts: [HOST], routes: [route({})], globalRateLimit })] as never[] });
  assert.equal(ready(global, "MetaRouter"), "False RateLimitServiceNotGrpc");
  assert.ok(!global.objects.some((o) => JSON.stringify(o.spec).includes("http2_protocol_options")), "not patched");
  assert.equal(clientRoutes(global).length, 1, "the routes are still applied");
  assert.equal((serverConfig(global).globalLimits as unknown[]).length, 1, "and the global limit (it may get answers once the port is renamed)");
  const grpc = run({ services: [service(), rls("grpc-rls")] as never[], metaRouters: [metaRouter({ hosts: [HOST], routes: [route({})], globalRateLimit })] as never[] });
  assert.ok(!grpc.diagnostics.some((d) => /RateLimitService/.test(d.reason)), "a grpc- port: nothing to report about the service");
  assert.deepEqual(serverConfig(grpc).globalLimits, [{ domain: "d", cluster: "outbound|8081||rls.shop.svc.cluster.local", entries: [{ key: "method", metadata: "method" }], timeoutMs: 20, reportIntervalMs: 100, failMode: "open" }]);
  const misspelled = run({ services: [service(), rls("grpc-rls")] as never[], metaRouters: [metaRouter({ hosts: [HOST], globalRateLimit: { ...globalRateLimit, denyOnFial: true } })] as never[] });
  assert.deepEqual(errors(misspelled), ["UnknownField spec.globalRateLimit.denyOnFial"], "a misspelled denyOnFail would silently fail open");

  const gateway = run({ metaRouters: [metaRouter({ hosts: [HOST], gateways: ["istio-system/gw"], routes: [route({})] })] as never[] });
  assert.equal(ready(gateway, "MetaRouter"), "False GatewaysNotSupported");
  assert.deepEqual(clientRoutes(gateway), []);

  // bRPC (and qza, videopacket): Aeraki codecs Meltemi does not have.
  const brpc = translate({
    ...emptySnapshot(),
    services: [service("brpc-server", "tcp-metaprotocol-brpc")] as never[],
    applicationProtocols: [{ apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "ApplicationProtocol", metadata: { name: "brpc" }, spec: { protocol: "brpc", codec: "aeraki.meta_protocol.codec.brpc" } }] as never[],
    metaRouters: [metaRouter({ hosts: ["brpc-server.shop.svc.cluster.local"], routes: [{ route: [{ destination: { host: "brpc-server.shop.svc.cluster.local" } }] }] })] as never[],
  }, TEST_OPTIONS);
  assert.equal(ready(brpc, "MetaRouter"), "False CodecNotAvailable");
  assert.equal(ready(brpc, "ApplicationProtocol"), "False CodecNotAvailable");
  assert.deepEqual(brpc.objects, []);
  assert.deepEqual(errors(brpc), [], "valid Aeraki YAML: degraded, not invalid");
});

test("degraded is not refused: the runtime keeps the last good outputs of refused inputs only", () => {
  const ref = { apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "MetaRouter", namespace: "shop", name: "m" };
  const degraded = readyStatus(ref, [{ severity: "degraded", object: ref, reason: "GlobalRateLimitNotSupported", message: "x" }]);
  assert.deepEqual([degraded.conditions[0]!.status, degraded.refused], ["False", false]);
  const refused = readyStatus(ref, [{ severity: "error", object: ref, reason: "UnknownField", message: "x" }, { severity: "degraded", object: ref, reason: "GlobalRateLimitNotSupported", message: "y" }]);
  assert.deepEqual([refused.conditions[0]!.status, refused.conditions[0]!.reason, refused.refused], ["False", "UnknownField", true]);
});

test("Slime: camelCase fields as in Slime's testdata, both spellings at once refused", () => {
  const descriptor = (action: Record<string, unknown>) => ({ sets: { _base: { descriptor: [{ action: { quota: "10", strategy: "single", ...action }, condition: "true", match: [{ exactMatch: "sayHello", name: "method" }] }] } } });
  const camel = run({ smartLimiters: [smartLimiter(descriptor({ fillInterval: { seconds: 1 } }))] as never[], adaptiveQuotas: new Map() });
  assert.deepEqual(errors(camel), []);
  assert.equal(ready(camel, "SmartLimiter"), "True Accepted");
  const both = run({ smartLimiters: [smartLimiter(descriptor({ fillInterval: { seconds: 1 }, fill_interval: { seconds: 2 } }))] as never[], adaptiveQuotas: new Map() });
  assert.deepEqual(errors(both), ["DuplicateField spec.sets._base.descriptor[0].action.fill_interval"]);
});

test("Slime: a sidecar workloadSelector limiter is accepted for the service's pods; gateway: true is not", () => {
  const sets = { _base: { descriptor: [{ action: { fill_interval: { seconds: 1 }, quota: "10" }, condition: "true" }] } };
  const sidecar = run({ smartLimiters: [smartLimiter({ sets, workloadSelector: { app: "reviews" } })] as never[], adaptiveQuotas: new Map() });
  assert.deepEqual(errors(sidecar), []);
  assert.ok(serverConfig(sidecar).localRateLimit !== undefined);
  const other = run({ smartLimiters: [smartLimiter({ sets, workloadSelector: { app: "gateway" } })] as never[], adaptiveQuotas: new Map() });
  assert.deepEqual(errors(other), ["WorkloadSelectorMismatch spec.workloadSelector"]);
  const gateway = run({ smartLimiters: [smartLimiter({ sets, gateway: true, workloadSelector: { app: "gw" } })] as never[], adaptiveQuotas: new Map() });
  assert.deepEqual(errors(gateway), ["GatewayNotSupported spec.gateway"]);
});

const renderYaml = (yaml: string) => render({ files: ["-"], output: "yaml", namespace: "default", showStatus: true, options: TEST_OPTIONS, readStdin: async () => yaml });
const SERVICE_YAML = `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {clusterIP: 10.0.0.9, selector: {app: reviews}, ports: [{name: tcp-metaprotocol-dubbo, port: 20880, targetPort: 20880}]}
---
`;

test("render: a misspelled field exits 1 and names the field; a SmartLimiter says its quotas come at runtime", async () => {
  const typo = await renderYaml(`${SERVICE_YAML}apiVersion: metaprotocol.aeraki.io/v1alpha1
kind: MetaRouter
metadata: {name: m, namespace: shop}
spec:
  hosts: [${HOST}]
  routes:
  - mach: {attributes: {method: {exact: sayHello}}}
    route: [{destination: {host: ${HOST}}}]
`);
  assert.equal(typo.exitCode, 1);
  assert.match(typo.stderr, /error: MetaRouter shop\/m: spec\.routes\[0\]\.mach: UnknownField: "mach" is not a MetaRouter field/);
  assert.doesNotMatch(typo.stdout, /EnvoyFilter/);

  const limiter = await renderYaml(`${SERVICE_YAML}apiVersion: microservice.slime.io/v1alpha2
kind: SmartLimiter
metadata: {name: reviews, namespace: shop}
spec:
  sets:
    _base:
      descriptor:
      - action: {fill_interval: {seconds: 1}, quota: "10/{{._base.pod}}", strategy: average}
        condition: "{{._base.cpu.sum}} > 100"
`);
  assert.equal(limiter.exitCode, 0, limiter.stderr);
  assert.match(limiter.stderr, /degraded: SmartLimiter shop\/reviews: QuotasAtRuntime: adaptive quotas are computed at runtime/);
  assert.match(limiter.stderr, /status: SmartLimiter shop\/reviews: Ready=False QuotasAtRuntime/);
});

test("a DestinationRule's top-level consistent hash, not applied, shows in the status of the routers sending traffic there", () => {
  const dr = { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "reviews", namespace: "shop" }, spec: { host: HOST, trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: "userId" } } }, subsets: [{ name: "v1", labels: { v: "1" } }] } };
  const r = run({ destinationRules: [dr] as never[], metaRouters: [metaRouter({ hosts: [HOST], routes: [route({}), route({ match: { attributes: { method: { exact: "a" } } } })] })] as never[] });
  assert.equal(ready(r, "MetaRouter"), "False ConsistentHashNotApplied");
  assert.equal(r.diagnostics.filter((d) => d.reason === "ConsistentHashNotApplied" && d.object.kind === "MetaRouter").length, 1, "told once");
  assert.equal(clientRoutes(r).length, 1, "the routes are applied");
  // Without the hash, the same MetaRouter is Ready.
  const plain = run({ destinationRules: [{ ...dr, spec: { host: HOST, subsets: dr.spec.subsets } }] as never[], metaRouters: [metaRouter({ hosts: [HOST], routes: [route({})] })] as never[] });
  assert.equal(ready(plain, "MetaRouter").split(" ")[0], "True");
});

test("Slime's SmartLimiters of HTTP services stay Slime's: judged by Slime, not refused by Meltemi", () => {
  // Slime's own e2e sample misspells strategy (`stragety`) on an HTTP service: nothing for Meltemi to say.
  // (With its HTTP Service: a SmartLimiter naming no Service at all is NoSuchService, strictness_review.test.ts.)
  const r = run({ services: [service(), service("productpage", "http")] as never[], smartLimiters: [{ ...smartLimiter({ sets: { _base: { descriptor: [{ action: { fill_interval: { seconds: 60 }, quota: "5", stragety: "single" }, condition: "true", target: { port: 9080 } }] } } }), metadata: { name: "productpage", namespace: "shop" } }] as never[] });
  assert.deepEqual(r.diagnostics.map((d) => `${d.severity} ${d.reason}`), ["info NotAMeltemiService"]);
});

test("a global limit's rate limit service on a plain TCP port (Aeraki's tcp-rate-limit-server): HTTP/2 added to that cluster in the serving pods, Ready", () => {
  const cluster = "outbound|8081||rls.shop.svc.cluster.local";
  const globalRateLimit = { domain: "d", rateLimitService: cluster, match: {}, descriptors: [{ property: "method", descriptorKey: "method" }] };
  const rls = (portName: string, appProtocol?: string) => ({ apiVersion: "v1", kind: "Service", metadata: { name: "rls", namespace: "shop" }, spec: { selector: { app: "rls" }, ports: [{ name: portName, port: 8081, ...(appProtocol ? { appProtocol } : {}) }] } });
  const with_ = (svc: object) => run({ services: [service(), svc] as never[], metaRouters: [metaRouter({ hosts: [HOST], routes: [route({})], globalRateLimit })] as never[] });
  const http2Filters = (r: ReturnType<typeof run>) => r.objects.filter((o) => o.kind === "EnvoyFilter" && (o.spec as { configPatches: { applyTo: string }[] }).configPatches.every((p) => p.applyTo === "CLUSTER"));
  for (const [what, svc] of [["named tcp-*", rls("tcp-rls")], ["named tcp", rls("tcp")], ["appProtocol tcp (Istio reads it before the name)", rls("grpc-rls", "tcp")]] as const) {
    const r = with_(svc);
    assert.match(ready(r, "MetaRouter"), /^True /, what);
    assert.deepEqual(r.diagnostics.filter((d) => /RateLimitService/.test(d.reason)).map((d) => `${d.severity} ${d.reason}`), ["info RateLimitServiceHttp2Added"], what);
    const [ef, ...more] = http2Filters(r);
    assert.equal(more.length, 0, what);
    const plugin = r.objects.find((o) => o.kind === "WasmPlugin" && (o.spec as { pluginConfig: { globalLimits?: unknown } }).pluginConfig.globalLimits)!;
    assert.equal(ef!.metadata.namespace, plugin.metadata.namespace);
    assert.deepEqual((ef!.spec as { workloadSelector: unknown }).workloadSelector, { labels: (plugin.spec as { selector: { matchLabels: unknown } }).selector.matchLabels }, `${what}: the plugin's workloads exactly`);
    const [patch] = (ef!.spec as { configPatches: { match: unknown; patch: { operation: string; value: unknown } }[] }).configPatches;
    assert.deepEqual(patch!.match, { context: "SIDECAR_OUTBOUND", cluster: { name: cluster } });
    assert.equal(patch!.patch.operation, "MERGE");
    assert.deepEqual(patch!.patch.value, { typed_extension_protocol_options: { "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": { "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions", explicit_http_config: { http2_protocol_options: {} } } } });
    assert.equal(ef!.metadata.annotations?.["meltemi.dev/owner"], "MetaRouter/shop/m", what);
  }
  for (const [what, svc] of [["grpc-*", rls("grpc-rls")], ["appProtocol grpc on a tcp- name", rls("tcp-rls", "grpc")]] as const) {
    const r = with_(svc);
    assert.deepEqual(http2Filters(r), [], `${what}: HTTP/2 already, nothing added`);
    assert.match(ready(r, "MetaRouter"), /^True /, what);
  }
  const none = run({ services: [service()] as never[], metaRouters: [metaRouter({ hosts: [HOST], routes: [route({})], globalRateLimit })] as never[] });
  assert.deepEqual(http2Filters(none), [], "no Service: nothing to patch");
  assert.deepEqual(none.diagnostics.filter((d) => /RateLimitService/.test(d.reason)).map((d) => `${d.severity} ${d.reason}`), ["warning NoRateLimitService"]);
});
