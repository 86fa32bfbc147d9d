// The published Aeraki and Slime samples (testdata/published/, each file naming its origin), rendered
// as a user applies them: the sample's base objects plus one sample at a time, with no edits. Each
// output is checked for its meaning (routes, matches, weights, mutations, limits, policies, mirrors)
// and every feature Meltemi does not carry for a sample is a visible diagnostic in the sample's status.
//
// The samples' Services and ServiceEntries have no VIP (as in Git). Each sample is rendered twice:
// offline (exit 0, the serving side complete, the callers' side reported as ServiceAddressUnknown) and
// with the addresses a cluster would give them (render --kubeconfig's reader, here a fake cluster that
// answers like Aeraki's / Kubernetes' allocators).
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { AdaptiveEngine } from "../../controller/adaptive/engine";
import { limiterKey } from "../../controller/translate/adaptive_limiter";
import { adaptiveLimitersOf } from "../../controller/translate/adaptive_limiters";
import { MetricError } from "../../controller/adaptive/prometheus";
import { DEFAULT_QUERIES } from "../../controller/adaptive/queries";
import { classify } from "../../controller/render/classify";
import type { GetObject } from "../../controller/render/live_addresses";
import { loadObjects } from "../../controller/render/load";
import { render } from "../../controller/render/render";
import { translate } from "../../controller/translate/translate";
import { parse as parseYaml } from "yaml";
import { assertInvariants, testdata, TEST_OPTIONS } from "./support";

const published = path.join(testdata, "published");

type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace: string; annotations?: Record<string, string> }; spec: any };
interface Diag { severity: string; kind: string; name: string; path?: string; reason: string; message: string }
interface Rendered { objects: Obj[]; diagnostics: Diag[]; ready: Map<string, { status: string; reason: string; message: string }>; exitCode: number; stderr: string }

const DIAGNOSTIC = /^(error|degraded|warning|info): (\w+) ([^:]+): (?:((?:spec|metadata)[^:]*): )?([A-Z]\w+): (.*)$/;
const STATUS = /^status: (\w+) ([^:]+): Ready=(True|False) (\w+): (.*)$/;

/** A cluster that has every object the samples create, with the VIP its allocator would give it. */
function fakeCluster(): { get: GetObject; asked: string[] } {
  const asked: string[] = [];
  let next = 1;
  const vips = new Map<string, string>();
  const vip = (p: string, prefix: string) => vips.get(p) ?? (vips.set(p, `${prefix}.${next++}`), vips.get(p)!);
  return {
    asked,
    get: async (p) => {
      asked.push(p);
      if (p.startsWith("/api/v1/")) {
        const ip = vip(p, "10.96.0");
        return { spec: { clusterIP: ip, clusterIPs: [ip] } };
      }
      // Aeraki's allocator writes spec.addresses of a ServiceEntry without one (240.240.0.0/16).
      return { spec: { addresses: [vip(p, "240.240.0")] } };
    },
  };
}

async function renderSample(files: string[], namespace: string, live: boolean): Promise<Rendered> {
  const request: Parameters<typeof render>[0] = {
    files: files.map((f) => path.join(published, f)),
    output: "json",
    namespace,
    showStatus: true,
    options: TEST_OPTIONS,
    readStdin: async () => "",
  };
  if (live) request.liveAddresses = fakeCluster().get;
  const r = await render(request);
  const diagnostics: Diag[] = [];
  const ready = new Map<string, { status: string; reason: string; message: string }>();
  for (const line of r.stderr.split("\n")) {
    const d = DIAGNOSTIC.exec(line);
    if (d) diagnostics.push({ severity: d[1]!, kind: d[2]!, name: d[3]!, ...(d[4] ? { path: d[4] } : {}), reason: d[5]!, message: d[6]! });
    const s = STATUS.exec(line);
    if (s) ready.set(`${s[1]} ${s[2]}`, { status: s[3]!, reason: s[4]!, message: s[5]! });
  }
  const objects = r.stdout ? (JSON.parse(r.stdout) as { items: Obj[] }).items : [];
  return { objects, diagnostics, ready, exitCode: r.exitCode, stderr: r.stderr };
}

/**
 * `severity reason` of each diagnostic; a feature applied in part reads "notInForce" whether the
 * diagnostic says warning or degraded (Ready=False for what is not in force: the strictness work).
 */
const NOT_IN_FORCE = new Set(["GlobalRateLimitNotSupported", "MirrorNotSupported", "ConsistentHashNotApplied", "ServiceAddressUnknown"]);
const reasonsOf = (r: Rendered, kind?: string) =>
  r.diagnostics.filter((d) => !kind || d.kind === kind).map((d) => `${NOT_IN_FORCE.has(d.reason) && d.severity !== "info" ? "notInForce" : d.severity} ${d.reason}`).sort();
const byKind = (r: Rendered, kind: string) => r.objects.filter((o) => o.kind === kind);
/** An EnvoyFilter on the callers' listeners (the serving side's patch only clusters). */
const isCallersFilter = (ef: Obj) => ef.spec.configPatches.some((p: any) => p.match?.listener);
/** The filter configuration an EnvoyFilter's ECDS patch carries (the callers' routes). */
const clientConfig = (ef: Obj) => JSON.parse(ef.spec.configPatches.find((p: any) => p.applyTo === "EXTENSION_CONFIG").patch.value.typed_config.config.configuration.value);
const nativeRouter = (ef: Obj) => ef.spec.configPatches.find((p: any) => p.patch.operation === "REPLACE")?.patch.value;
const listeners = (ef: Obj) => [...new Set(ef.spec.configPatches.filter((p: any) => p.match?.listener).map((p: any) => p.match.listener.name))];

/** Renders offline and with a cluster's addresses; checks what both must say; returns the live one. */
async function renderBoth(files: string[], namespace: string): Promise<{ offline: Rendered; live: Rendered }> {
  const offline = await renderSample(files, namespace, false);
  const live = await renderSample(files, namespace, true);
  for (const [what, r] of [["offline", offline], ["live", live]] as const) {
    assert.equal(r.exitCode, 0, `${files.join(" + ")} (${what}) renders without errors:\n${r.stderr}`);
    assert.ok(!r.diagnostics.some((d) => d.severity === "error"), `${what}: no error`);
    assert.ok(!r.diagnostics.some((d) => d.reason === "ScopedToNamespace"), "Aeraki's scope by default");
  }
  // Offline: the serving side is complete; the callers' side needs the VIP and says so.
  assert.deepEqual(byKind(offline, "WasmPlugin").map((o) => o.metadata.name), byKind(live, "WasmPlugin").map((o) => o.metadata.name));
  assert.deepEqual(byKind(offline, "EnvoyFilter").filter(isCallersFilter), []);
  assert.deepEqual(byKind(offline, "EnvoyFilter").filter((o) => !isCallersFilter(o)), byKind(live, "EnvoyFilter").filter((o) => !isCallersFilter(o)), "the serving side's EnvoyFilters (HTTP/2 for a rate limit service) need no VIP");
  if (byKind(live, "EnvoyFilter").some(isCallersFilter)) assert.ok(offline.diagnostics.some((d) => d.reason === "ServiceAddressUnknown"), "offline: the missing VIP is reported");
  assertInvariants({ objects: live.objects as never[], diagnostics: live.diagnostics.map((d) => ({ severity: d.severity as "info", object: { apiVersion: "", kind: d.kind, namespace: d.name.split("/")[0]!, name: d.name.split("/")[1]! }, reason: d.reason, message: d.message })), status: [] });
  return { offline, live };
}

// --- aeraki-mesh/aeraki demo/metaprotocol-dubbo -------------------------------------------------

const DUBBO_HOST = "org.apache.dubbo.samples.basic.api.demoservice";
const DUBBO = (subset?: string) => `outbound|20880|${subset ?? ""}|${DUBBO_HOST}`;
const DUBBO_BASE = ["aeraki-metaprotocol-dubbo/base"];
const DEMO_MATCH = { interface: { exact: "org.apache.dubbo.samples.basic.api.DemoService" }, method: { exact: "sayHello" }, foo: { exact: "bar" } };

/** The one mesh-wide callers' EnvoyFilter of the demo service, and its routes. */
function dubboClient(r: Rendered): { ef: Obj; routes: any[] } {
  const efs = byKind(r, "EnvoyFilter");
  assert.equal(efs.length, 1);
  const ef = efs[0]!;
  assert.equal(ef.metadata.namespace, "istio-system", "mesh-wide, as Aeraki applies MetaRouters");
  assert.equal(ef.metadata.annotations?.["meltemi.dev/owner"], "MetaRouter/meta-dubbo/test-metaprotocol-dubbo-route");
  assert.equal(listeners(ef).length, 1);
  assert.match(String(listeners(ef)[0]), /^240\.240\.0\.\d+_20880$/, "the listener named after the VIP the cluster gave the ServiceEntry");
  return { ef, routes: clientConfig(ef).routes };
}

test("published: demo/metaprotocol-dubbo base alone: two Dubbo ServiceEntries served, nothing routed", async () => {
  const { live } = await renderBoth(DUBBO_BASE, "default");
  assert.deepEqual(byKind(live, "WasmPlugin").map((o) => [o.metadata.namespace, o.spec.selector.matchLabels.app, o.spec.pluginConfig.protocol]), [
    ["meta-dubbo", "dubbo-sample-provider", "dubbo"],
    ["meta-dubbo", "dubbo-sample-second-provider", "dubbo"],
  ]);
  assert.deepEqual(live.diagnostics, []);
});

for (const v of ["v1", "v2"]) {
  test(`published: demo/metaprotocol-dubbo metarouter-${v}: interface + method + foo=bar go to subset ${v}`, async () => {
    const { live } = await renderBoth([...DUBBO_BASE, `aeraki-metaprotocol-dubbo/metarouter-${v}.yaml`], "default");
    const { ef, routes } = dubboClient(live);
    assert.deepEqual(routes, [{ name: v, match: DEMO_MATCH, destinations: [{ cluster: DUBBO(v), weight: 1 }] }]);
    assert.equal(nativeRouter(ef).name, "envoy.filters.network.dubbo_proxy");
    assert.equal(live.ready.get("MetaRouter meta-dubbo/test-metaprotocol-dubbo-route")!.reason, "Accepted");
  });
}

test("published: demo/metaprotocol-dubbo traffic-split: 20/80 between v1 and v2 on the matched calls", async () => {
  const { live } = await renderBoth([...DUBBO_BASE, "aeraki-metaprotocol-dubbo/traffic-split.yaml"], "default");
  assert.deepEqual(dubboClient(live).routes, [{ name: "traffic-split", match: DEMO_MATCH, destinations: [{ cluster: DUBBO("v1"), weight: 20 }, { cluster: DUBBO("v2"), weight: 80 }] }]);
  assert.deepEqual(reasonsOf(live), ["info MeshWide"]);
});

test("published: demo/metaprotocol-dubbo header-mutation: every call gets foo=bar, foo1=bar1, to the service", async () => {
  const { live } = await renderBoth([...DUBBO_BASE, "aeraki-metaprotocol-dubbo/metarouter-header-mutation.yaml"], "default");
  assert.deepEqual(dubboClient(live).routes, [{ name: "header-mutation", destinations: [{ cluster: DUBBO(), weight: 1 }], requestMutation: [{ key: "foo", value: "bar" }, { key: "foo1", value: "bar1" }] }]);
});

test("published: demo/metaprotocol-dubbo local-ratelimit: 10 per 60 s per pod, sayHello 2 per 10 s, on the serving pods", async () => {
  const { offline, live } = await renderBoth([...DUBBO_BASE, "aeraki-metaprotocol-dubbo/metarouter-local-ratelimit.yaml"], "default");
  for (const r of [offline, live]) {
    const demo = byKind(r, "WasmPlugin").find((o) => o.spec.selector.matchLabels.app === "dubbo-sample-provider")!;
    assert.deepEqual(demo.spec.pluginConfig.localRateLimit, {
      tokenBucket: { maxTokens: 10, fillIntervalMs: 60_000, tokensPerFill: 10 },
      conditions: [{ match: { method: { exact: "sayHello" } }, tokenBucket: { maxTokens: 2, fillIntervalMs: 10_000, tokensPerFill: 2 } }],
    });
    const second = byKind(r, "WasmPlugin").find((o) => o.spec.selector.matchLabels.app === "dubbo-sample-second-provider")!;
    assert.equal(second.spec.pluginConfig.localRateLimit, undefined, "the other service is not limited");
  }
  assert.deepEqual(dubboClient(live).routes, [{ name: "v1", destinations: [{ cluster: DUBBO("v1"), weight: 1 }] }]);
});

/** The filter's global limit Aeraki's global-ratelimit samples translate to (docs/global-rate-limit.md). */
const SAY_HELLO_GLOBAL = (namespace: string) => ({
  domain: "production",
  cluster: `outbound|8081||rate-limit-server.${namespace}.svc.cluster.local`,
  match: { method: { exact: "sayHello" } },
  entries: [{ key: "method", metadata: "method" }],
  timeoutMs: 100,
  reportIntervalMs: 100,
  failMode: "closed",
});

test("published: demo/metaprotocol-dubbo global-ratelimit: a global limit on the serving pods, fail closed (denyOnFail); the rate limit service, not in the sample, is reported", async () => {
  const { offline, live } = await renderBoth([...DUBBO_BASE, "aeraki-metaprotocol-dubbo/metarouter-global-ratelimit.yaml"], "default");
  for (const r of [offline, live]) {
    const plugins = byKind(r, "WasmPlugin").filter((o) => o.spec.pluginConfig.globalLimits);
    assert.equal(plugins.length, 1, "the demo service's serving pods only");
    assert.deepEqual(plugins[0]!.spec.pluginConfig.globalLimits, [SAY_HELLO_GLOBAL("meta-dubbo")]);
  }
  assert.deepEqual(reasonsOf(live, "MetaRouter"), ["warning NoRateLimitService"]);
  assert.deepEqual(byKind(live, "EnvoyFilter"), [], "no routes: nothing on the callers' side");
});

test("published: demo/metaprotocol-dubbo traffic-mirroring: routed to v1; the mirror is refused visibly (dubbo_proxy cannot mirror)", async () => {
  const { offline, live } = await renderBoth([...DUBBO_BASE, "aeraki-metaprotocol-dubbo/traffic-mirroring.yaml"], "default");
  assert.deepEqual(dubboClient(live).routes, [{ name: "traffic-mirroring", destinations: [{ cluster: DUBBO("v1"), weight: 1 }] }]);
  for (const r of [offline, live]) {
    const m = r.diagnostics.find((d) => d.reason === "MirrorNotSupported")!;
    assert.equal(m.path, "spec.routes[0].mirror");
    assert.match(r.ready.get("MetaRouter meta-dubbo/test-metaprotocol-dubbo-route")!.message, /mirror/);
  }
});

test("published: demo/metaprotocol-dubbo consistent-hash-lb: the hash on the method is refused visibly on the rule", async () => {
  const { live } = await renderBoth(["aeraki-metaprotocol-dubbo/base/serviceentry.yaml", "aeraki-metaprotocol-dubbo/consistent-hash-lb"], "default");
  const d = live.diagnostics.find((x) => x.reason === "ConsistentHashNotApplied")!;
  assert.equal(d.kind, "DestinationRule");
  assert.equal(d.path, "spec.trafficPolicy.loadBalancer.consistentHash");
  assert.match(d.message, /httpHeaderName "method"/);
  // With the MetaRouter of the same demo, the router's status carries it too.
  const routed = await renderSample(["aeraki-metaprotocol-dubbo/base/serviceentry.yaml", "aeraki-metaprotocol-dubbo/consistent-hash-lb", "aeraki-metaprotocol-dubbo/metarouter-header-mutation.yaml"], "default", true);
  assert.match(routed.ready.get("MetaRouter meta-dubbo/test-metaprotocol-dubbo-route")!.message, /consistentHash httpHeaderName "method"/);
});

// --- aeraki-mesh/aeraki demo/metaprotocol-dubbo-app-level ---------------------------------------

test("published: demo/metaprotocol-dubbo-app-level (Kubernetes Services, render -n meta-dubbo): split 20/80 and the local limits", async () => {
  const APP = "dubbo-sample-provider.meta-dubbo.svc.cluster.local";
  const base = ["aeraki-metaprotocol-dubbo-app-level/base"];
  const split = await renderBoth([...base, "aeraki-metaprotocol-dubbo-app-level/traffic-split.yaml"], "meta-dubbo");
  const [ef] = byKind(split.live, "EnvoyFilter");
  assert.equal(ef!.metadata.namespace, "istio-system");
  assert.match(String(listeners(ef!)[0]), /^10\.96\.0\.\d+_20880$/);
  assert.deepEqual(clientConfig(ef!).routes, [{ name: "traffic-split", match: DEMO_MATCH, destinations: [{ cluster: `outbound|20880|v1|${APP}`, weight: 20 }, { cluster: `outbound|20880|v2|${APP}`, weight: 80 }] }]);
  const limit = await renderBoth([...base, "aeraki-metaprotocol-dubbo-app-level/metarouter-local-ratelimit.yaml"], "meta-dubbo");
  const plugin = byKind(limit.offline, "WasmPlugin").find((o) => o.metadata.name === "meltemi-server-dubbo-sample-provider-20880")!;
  assert.deepEqual(plugin.spec.pluginConfig.localRateLimit, {
    tokenBucket: { maxTokens: 10, fillIntervalMs: 60_000, tokensPerFill: 10 },
    conditions: [{ match: { method: { exact: "sayHello" } }, tokenBucket: { maxTokens: 2, fillIntervalMs: 10_000, tokensPerFill: 2 } }],
  });
  assert.equal(byKind(limit.offline, "WasmPlugin").find((o) => o.metadata.name === "meltemi-server-dubbo-sample-second-provider-20880")!.spec.pluginConfig.localRateLimit, undefined);
});

// --- aeraki-mesh/aeraki demo/metaprotocol-thrift -----------------------------------------------

const THRIFT_HOST = "thrift-sample-server.meta-thrift.svc.cluster.local";
const THRIFT = (subset?: string) => `outbound|9090|${subset ?? ""}|${THRIFT_HOST}`;
const THRIFT_BASE = ["aeraki-metaprotocol-thrift/base"];

function thriftClient(r: Rendered): { ef: Obj; routes: any[]; native: any } {
  const efs = byKind(r, "EnvoyFilter");
  assert.equal(efs.length, 1);
  const ef = efs[0]!;
  assert.equal(ef.metadata.namespace, "istio-system");
  assert.match(String(listeners(ef)[0]), /^10\.96\.0\.\d+_9090$/, "the listener named after the Service's clusterIP");
  const native = nativeRouter(ef);
  assert.equal(native.name, "envoy.filters.network.thrift_proxy");
  return { ef, routes: clientConfig(ef).routes, native };
}

test("published: demo/metaprotocol-thrift (Service without namespace, render -n meta-thrift): served on 9090", async () => {
  const { live } = await renderBoth(THRIFT_BASE, "meta-thrift");
  const [plugin] = byKind(live, "WasmPlugin");
  assert.equal(plugin!.metadata.namespace, "meta-thrift");
  assert.deepEqual(plugin!.spec.match, [{ mode: "SERVER", ports: [{ number: 9090 }] }]);
  assert.equal(plugin!.spec.pluginConfig.protocol, "thrift");
});

test("published: demo/metaprotocol-thrift metarouter-v1 and traffic-split: sayHello to v1, or 20/80 v1/v2", async () => {
  const v1 = await renderBoth([...THRIFT_BASE, "aeraki-metaprotocol-thrift/metarouter-v1.yaml"], "meta-thrift");
  assert.deepEqual(thriftClient(v1.live).routes, [{ name: "v1", match: { method: { exact: "sayHello" } }, destinations: [{ cluster: THRIFT("v1"), weight: 1 }] }]);
  const split = await renderBoth([...THRIFT_BASE, "aeraki-metaprotocol-thrift/traffic-split.yaml"], "meta-thrift");
  const { routes, native } = thriftClient(split.live);
  assert.deepEqual(routes, [{ name: "traffic-split", match: { method: { exact: "sayHello" } }, destinations: [{ cluster: THRIFT("v1"), weight: 20 }, { cluster: THRIFT("v2"), weight: 80 }] }]);
  assert.deepEqual(native.typed_config.route_config.routes.map((x: any) => x.route.cluster), [THRIFT("v1"), THRIFT("v2")]);
});

test("published: demo/metaprotocol-thrift header-mutation and local-ratelimit", async () => {
  const mutation = await renderBoth([...THRIFT_BASE, "aeraki-metaprotocol-thrift/metarouter-header-mutation.yaml"], "meta-thrift");
  assert.deepEqual(thriftClient(mutation.live).routes[0].requestMutation, [{ key: "foo", value: "bar" }, { key: "foo1", value: "bar1" }]);
  const limit = await renderBoth([...THRIFT_BASE, "aeraki-metaprotocol-thrift/metarouter-local-ratelimit.yaml"], "meta-thrift");
  assert.deepEqual(byKind(limit.offline, "WasmPlugin")[0]!.spec.pluginConfig.localRateLimit, {
    tokenBucket: { maxTokens: 5, fillIntervalMs: 60_000, tokensPerFill: 5 },
    conditions: [{ match: { method: { exact: "sayHello" } }, tokenBucket: { maxTokens: 2, fillIntervalMs: 30_000, tokensPerFill: 2 } }],
  });
});

/** The HTTP/2 the controller adds to the rate limit service's cluster in the serving pods (rate_limit_http2.ts). */
function assertHttp2ForRateLimitService(r: Rendered, namespace: string, app: string): void {
  const cluster = `outbound|8081||rate-limit-server.${namespace}.svc.cluster.local`;
  const plugin = byKind(r, "WasmPlugin").find((o) => o.spec.pluginConfig.globalLimits)!;
  assert.deepEqual(plugin.spec.selector.matchLabels, { app });
  const filters = byKind(r, "EnvoyFilter").filter((o) => !isCallersFilter(o));
  assert.equal(filters.length, 1, "one EnvoyFilter for the serving pods");
  assert.equal(filters[0]!.metadata.namespace, namespace);
  assert.deepEqual(filters[0]!.spec, {
    workloadSelector: { labels: plugin.spec.selector.matchLabels },
    configPatches: [{
      applyTo: "CLUSTER",
      match: { context: "SIDECAR_OUTBOUND", cluster: { name: cluster } },
      patch: { operation: "MERGE", value: { typed_extension_protocol_options: { "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
        "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions", explicit_http_config: { http2_protocol_options: {} },
      } } } },
    }],
  });
  assert.equal(filters[0]!.metadata.annotations?.["meltemi.dev/owner"], `MetaRouter/${namespace}/${r.diagnostics.find((d) => d.reason === "RateLimitServiceHttp2Added")!.name.split("/")[1]}`);
}

test("published: demo/metaprotocol-thrift global-ratelimit with its rate limit server: the global limit; the server's tcp- port gets HTTP/2 in the serving pods (an EnvoyFilter), Ready", async () => {
  const alone = await renderBoth([...THRIFT_BASE, "aeraki-metaprotocol-thrift/metarouter-global-ratelimit.yaml"], "meta-thrift");
  assert.deepEqual(byKind(alone.live, "WasmPlugin")[0]!.spec.pluginConfig.globalLimits, [SAY_HELLO_GLOBAL("meta-thrift")]);
  assert.deepEqual(reasonsOf(alone.live, "MetaRouter"), ["warning NoRateLimitService"]);
  assert.deepEqual(byKind(alone.live, "EnvoyFilter").filter((o) => !isCallersFilter(o)), [], "no Service, no port name to judge: no patch");
  const withServer = await renderBoth([...THRIFT_BASE, "aeraki-metaprotocol-thrift/rate-limit-server.yaml", "aeraki-metaprotocol-thrift/metarouter-global-ratelimit.yaml"], "meta-thrift");
  assert.deepEqual(byKind(withServer.live, "WasmPlugin").find((o) => o.spec.pluginConfig.globalLimits)!.spec.pluginConfig.globalLimits, [SAY_HELLO_GLOBAL("meta-thrift")]);
  assert.deepEqual(reasonsOf(withServer.live, "MetaRouter"), ["info RateLimitServiceHttp2Added"]);
  assert.equal(withServer.live.ready.get("MetaRouter meta-thrift/test-metaprotocol-thrift-route")!.status, "True");
  for (const r of [withServer.offline, withServer.live]) assertHttp2ForRateLimitService(r, "meta-thrift", "thrift-sample-server");
});

test("published: demo/metaprotocol-dubbo global-ratelimit with its rate limit server (tcp-rate-limit-server, as published): HTTP/2 added for the demo service's pods only, Ready", async () => {
  const { offline, live } = await renderBoth([...DUBBO_BASE, "aeraki-metaprotocol-dubbo/rate-limit-server.yaml", "aeraki-metaprotocol-dubbo/metarouter-global-ratelimit.yaml"], "meta-dubbo");
  for (const r of [offline, live]) {
    assert.deepEqual(byKind(r, "WasmPlugin").filter((o) => o.spec.pluginConfig.globalLimits).map((o) => o.spec.pluginConfig.globalLimits), [[SAY_HELLO_GLOBAL("meta-dubbo")]]);
    assertHttp2ForRateLimitService(r, "meta-dubbo", "dubbo-sample-provider");
    assert.deepEqual(reasonsOf(r, "MetaRouter"), ["info RateLimitServiceHttp2Added"]);
    assert.equal(r.ready.get("MetaRouter meta-dubbo/test-metaprotocol-dubbo-route")!.status, "True");
    assert.match(r.diagnostics.find((d) => d.reason === "RateLimitServiceHttp2Added")!.message, /tcp-rate-limit-server.*adds HTTP\/2/);
  }
});

test("published: Thrift traffic mirroring: thrift_proxy copies half of v1's calls to v2", async () => {
  const { live } = await renderBoth([...THRIFT_BASE, "aeraki-metaprotocol-thrift/traffic-mirroring.yaml"], "meta-thrift");
  const { routes, native } = thriftClient(live);
  assert.deepEqual(routes, [{ name: "traffic-mirroring", destinations: [{ cluster: THRIFT("v1"), weight: 1 }] }]);
  assert.deepEqual(native.typed_config.route_config.routes, [
    { match: { service_name: THRIFT("v1") }, route: { cluster: THRIFT("v1"), strip_service_name: true, request_mirror_policies: [{ cluster: THRIFT("v2"), runtime_fraction: { default_value: { numerator: 500_000, denominator: "MILLION" } } }] } },
  ]);
  assert.equal(live.ready.get("MetaRouter meta-thrift/test-metaprotocol-thrift-route")!.reason, "Accepted");
});

test("published: demo/metaprotocol-thrift consistent-hash-lb: refused visibly on the rule and in the router's status", async () => {
  const r = await renderSample(["aeraki-metaprotocol-thrift/base/service.yaml", "aeraki-metaprotocol-thrift/consistent-hash-lb", "aeraki-metaprotocol-thrift/metarouter-header-mutation.yaml"], "meta-thrift", true);
  assert.equal(r.exitCode, 0);
  assert.deepEqual(reasonsOf(r).filter((x) => x.includes("ConsistentHash")), ["info ConsistentHashNotApplied", "notInForce ConsistentHashNotApplied"]);
  assert.match(r.ready.get("MetaRouter meta-thrift/test-metaprotocol-thrift-route")!.message, /consistentHash/);
});

// --- aeraki-mesh/aeraki demo/metaprotocol-trpc ------------------------------------------------
// tRPC: Meltemi's trpc codec (filter/codec/trpc), perConnection (no native Envoy router).

const TRPC_HOST = "trpc-sample-server.meta-trpc.svc.cluster.local";
const TRPC = (subset?: string) => `outbound|8000|${subset ?? ""}|${TRPC_HOST}`;
const TRPC_BASE = ["aeraki-metaprotocol-trpc/base"];
const SAY_HELLO = { callee: { exact: "trpc.test.helloworld" }, func: { prefix: "/trpc.test.helloworld.Greeter/SayHello" } };

function trpcClient(r: Rendered): { ef: Obj; config: any } {
  const efs = byKind(r, "EnvoyFilter");
  assert.equal(efs.length, 1);
  const ef = efs[0]!;
  assert.equal(ef.metadata.namespace, "istio-system");
  assert.equal(nativeRouter(ef), undefined, "no native router: Istio's tcp_proxy stays");
  assert.equal(r.ready.get("MetaRouter meta-trpc/test-metaprotocol-trpc-route")!.reason, "Accepted");
  return { ef, config: clientConfig(ef) };
}

test("published: demo/metaprotocol-trpc (ApplicationProtocol trpc, Service without namespace): served on 8000 by the trpc codec", async () => {
  const { live } = await renderBoth(TRPC_BASE, "meta-trpc");
  assert.equal(live.ready.get("ApplicationProtocol trpc")!.reason, "Accepted");
  const [plugin] = byKind(live, "WasmPlugin");
  assert.equal(plugin!.metadata.namespace, "meta-trpc");
  assert.deepEqual(plugin!.spec.match, [{ mode: "SERVER", ports: [{ number: 8000 }] }]);
  assert.equal(plugin!.spec.pluginConfig.protocol, "trpc");
});

test("published: demo/metaprotocol-trpc metarouter-v1, -v2, -multi-route, traffic-split: callee/func/version/caller matches, perConnection", async () => {
  for (const subset of ["v1", "v2"]) {
    const r = await renderBoth([...TRPC_BASE, `aeraki-metaprotocol-trpc/metarouter-${subset}.yaml`], "meta-trpc");
    const { config } = trpcClient(r.live);
    assert.equal(config.protocol, "trpc");
    assert.equal(config.routingMode, "perConnection");
    assert.deepEqual(config.routes, [{ name: subset, match: SAY_HELLO, destinations: [{ cluster: TRPC(subset), weight: 1 }] }]);
  }
  const multi = await renderBoth([...TRPC_BASE, "aeraki-metaprotocol-trpc/metarouter-multi-route.yaml"], "meta-trpc");
  assert.deepEqual(trpcClient(multi.live).config.routes, ["v1", "v2"].map((v) => ({
    name: v, match: { callee: SAY_HELLO.callee, version: { exact: v }, func: SAY_HELLO.func }, destinations: [{ cluster: TRPC(v), weight: 1 }],
  })));
  const split = await renderBoth([...TRPC_BASE, "aeraki-metaprotocol-trpc/traffic-split.yaml"], "meta-trpc");
  assert.deepEqual(trpcClient(split.live).config.routes, [{
    name: "traffic-split",
    match: { callee: SAY_HELLO.callee, caller: { exact: "trpc.app.trpc-client.service" }, func: { exact: "/trpc.test.helloworld.Greeter/SayHello" } },
    destinations: [{ cluster: TRPC("v1"), weight: 20 }, { cluster: TRPC("v2"), weight: 80 }],
  }]);
});

test("published: demo/metaprotocol-trpc header-mutation: the mutation as trans_info entries", async () => {
  const mutation = await renderBoth([...TRPC_BASE, "aeraki-metaprotocol-trpc/metarouter-header-mutation.yaml"], "meta-trpc");
  const { config } = trpcClient(mutation.live);
  assert.deepEqual(config.routes[0].requestMutation, [{ key: "foo", value: "bar" }, { key: "foo1", value: "bar1" }]);
  assert.deepEqual(config.routes[0].destinations, [{ cluster: TRPC(), weight: 1 }]);
});

// --- aeraki-mesh/aeraki test/e2e/metaprotocol ---------------------------------------------------

const E2E_BASE = ["aeraki-e2e-metaprotocol/base"];
const E2E = (subset: string) => `outbound|20880|${subset}|${DUBBO_HOST}`;

test("published: test/e2e/metaprotocol attribute exact / prefix / regex matches, in order", async () => {
  const expected: Record<string, [object, object]> = {
    exact: [{ exact: "sayHello01" }, { exact: "sayHello" }],
    prefix: [{ prefix: "sayHello01" }, { prefix: "say" }],
    regex: [{ regex: "sayHello01" }, { regex: "^s.*o$" }],
  };
  for (const [kind, [first, second]] of Object.entries(expected)) {
    const { live } = await renderBoth([...E2E_BASE, `aeraki-e2e-metaprotocol/metarouter-attribute-${kind}.yaml`], "meta-e2e");
    const [ef] = byKind(live, "EnvoyFilter");
    assert.equal(ef!.metadata.annotations?.["meltemi.dev/owner"], "MetaRouter/meta-e2e/test-metaprotocol-route");
    assert.deepEqual(clientConfig(ef!).routes, [
      { name: "v1", match: { method: first }, destinations: [{ cluster: E2E("v1"), weight: 1 }] },
      { name: "v2", match: { method: second }, destinations: [{ cluster: E2E("v2"), weight: 1 }] },
    ], kind);
  }
});

test("published: test/e2e/metaprotocol global-ratelimit: the global limit on the demo service's serving pods", async () => {
  const { live } = await renderBoth([...E2E_BASE, "aeraki-e2e-metaprotocol/metarouter-global-ratelimit.yaml"], "meta-e2e");
  const plugins = byKind(live, "WasmPlugin").filter((o) => o.spec.pluginConfig.globalLimits);
  assert.equal(plugins.length, 1);
  assert.deepEqual(plugins[0]!.spec.pluginConfig.globalLimits, [SAY_HELLO_GLOBAL("metaprotocol")]);
  assert.deepEqual(reasonsOf(live, "MetaRouter"), ["warning NoRateLimitService"]);
});

test("published: test/e2e/metaprotocol traffic-splitting and the subset-level consistent hash", async () => {
  const { live } = await renderBoth([...E2E_BASE, "aeraki-e2e-metaprotocol/metarouter-traffic-splitting.yaml"], "meta-e2e");
  assert.deepEqual(clientConfig(byKind(live, "EnvoyFilter")[0]!).routes, [{ name: "traffic-spilt", destinations: [{ cluster: E2E("v1"), weight: 20 }, { cluster: E2E("v2"), weight: 80 }] }]);
  const hash = await renderBoth(["aeraki-e2e-metaprotocol/base/serviceentry.yaml", "aeraki-e2e-metaprotocol/consistent-hash-lb"], "meta-e2e");
  assert.deepEqual(clientConfig(byKind(hash.live, "EnvoyFilter")[0]!).routes, [{ name: "sample", destinations: [{ cluster: E2E("sample"), weight: 1 }] }]);
  const onRouter = hash.live.diagnostics.find((d) => d.kind === "MetaRouter" && d.reason === "ConsistentHashNotApplied")!;
  assert.match(onRouter.severity, /^(warning|degraded)$/);
  assert.match(onRouter.message, /spec\.subsets\[0\]\.trafficPolicy\.loadBalancer\.consistentHash/);
  assert.match(hash.live.ready.get("MetaRouter meta-e2e/test-metaprotocol-route")!.message, /consistentHash/);
});

// --- aeraki-mesh/aeraki demo/dubbo + aeraki.net DubboAuthorizationPolicy --------------------------

test("published: demo/dubbo (port tcp-dubbo) with DubboAuthorizationPolicies: enforced by the serving pods, fail-closed", async () => {
  const { live } = await renderBoth(["aeraki-dubbo"], "dubbo");
  const [plugin] = byKind(live, "WasmPlugin");
  assert.equal(plugin!.metadata.namespace, "dubbo");
  assert.equal(plugin!.spec.failStrategy, "FAIL_RELOAD", "fails closed, never open, with a policy");
  assert.equal(plugin!.spec.pluginConfig.protocol, "dubbo");
  assert.deepEqual(plugin!.spec.pluginConfig.authorization, [
    { name: "dubbo/allow-consumer", action: "ALLOW", rules: [{ from: [{ principals: ["cluster.local/ns/dubbo/sa/dubbo-consumer"] }] }] },
    { name: "dubbo/deny-dev-sayhello", action: "DENY", rules: [{ from: [{ principals: ["admin", "dev"], namespaces: ["prod", "test"] }], to: [{ interfaces: ["org.apache.dubbo.samples.basic.api.DemoService"], methods: ["sayHello"] }] }] },
  ]);
  for (const name of ["allow-consumer", "deny-dev-sayhello"]) assert.equal(live.ready.get(`DubboAuthorizationPolicy dubbo/${name}`)!.status, "True");
});

// --- slime-io/slime limiter samples -------------------------------------------------------------

/** What the controller does with a SmartLimiter: the adaptive engine decides the quotas, the translation applies them. */
async function slime(files: string[], pods: number) {
  const loaded = await loadObjects(files.map((f) => path.join(published, "slime-limiter", f)), async () => "");
  const { snapshot } = classify(loaded, "default");
  const noPrometheus = { query: async () => { throw new MetricError("PrometheusUnreachable", "no metric is needed by a constant condition"); } };
  const engine = new AdaptiveEngine(noPrometheus, { podsOf: () => Array.from({ length: pods }, (_, i) => `reviews-${i}`) }, { queries: DEFAULT_QUERIES });
  const results = await engine.refresh(adaptiveLimitersOf(snapshot), 0);
  const result = translate({ ...snapshot, adaptiveQuotas: new Map(results.map((r) => [limiterKey(r.limiter.source), r.quotas])) }, TEST_OPTIONS);
  assertInvariants(result);
  return result;
}
const bucketsOf = (r: ReturnType<typeof translate>) => (r.objects.find((o) => o.kind === "WasmPlugin")!.spec as any).pluginConfig.localRateLimit;

test("published: Slime's single, average and match SmartLimiters on an RPC service: the per-pod buckets Slime would set", async () => {
  assert.deepEqual(bucketsOf(await slime(["service.yaml", "smartlimiter-single.yaml"], 2)), { tokenBucket: { maxTokens: 100, tokensPerFill: 100, fillIntervalMs: 60_000 } });
  assert.deepEqual(bucketsOf(await slime(["service.yaml", "smartlimiter-average.yaml"], 2)), { tokenBucket: { maxTokens: 50, tokensPerFill: 50, fillIntervalMs: 60_000 } }, "100 over 2 pods");
  assert.deepEqual(bucketsOf(await slime(["service.yaml", "smartlimiter-match.yaml"], 2)), { conditions: [{ match: { foo: { exact: "bar" } }, tokenBucket: { maxTokens: 5, tokensPerFill: 5, fillIntervalMs: 60_000 } }] });
});

test("published: Slime's global (shared counter) SmartLimiter: the filter's global limit and the rate limit service's ConfigMap, from the same object", async () => {
  for (const r of [await slime(["service.yaml", "smartlimiter-global.yaml"], 2), (await renderBoth(["slime-limiter/service.yaml", "slime-limiter/smartlimiter-global.yaml"], "default")).live]) {
    const objects = r.objects as Obj[];
    const config = objects.find((o) => o.kind === "WasmPlugin")!.spec.pluginConfig;
    assert.equal(config.localRateLimit, undefined, "no per-pod bucket pretends to be the shared counter");
    const [limit] = config.globalLimits;
    assert.deepEqual({ ...limit, entries: undefined }, { domain: "slime", cluster: "outbound|18081||rate-limit.istio-system.svc.cluster.local", timeoutMs: 20, reportIntervalMs: 100, failMode: "open", entries: undefined });
    assert.equal(limit.entries.length, 1);
    assert.equal(limit.entries[0].key, "generic_key");
    assert.match(limit.entries[0].value, /^Service\[reviews\.default\]-Id\[\d+\]$/);
    const cm = objects.find((o) => o.kind === "ConfigMap") as unknown as { metadata: { name: string; namespace: string }; data: Record<string, string> };
    assert.deepEqual([cm.metadata.namespace, cm.metadata.name], ["istio-system", "rate-limit-config"], "where Slime's limiter module keeps it");
    assert.deepEqual(parseYaml(cm.data["config.yaml"]!), {
      domain: "slime",
      descriptors: [{ key: "generic_key", value: limit.entries[0].value, rate_limit: { unit: "minute", requests_per_unit: 100 } }],
    });
  }
});
