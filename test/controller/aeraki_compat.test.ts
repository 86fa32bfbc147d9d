// Aeraki's YAML as users have it: Aeraki's dedicated-proxy port names, Thrift mirroring where
// thrift_proxy can carry it (and visibly refused elsewhere), DestinationRule consistent hashes, and
// inputs without VIPs (render from Git; render --kubeconfig reads the cluster's).
import { test } from "node:test";
import assert from "node:assert/strict";
import { withLiveAddresses } from "../../controller/render/live_addresses";
import { translate } from "../../controller/translate/translate";
import { emptySnapshot, type Snapshot } from "../../controller/translate/snapshot";
import { assertInvariants, filterConfigsOf, TEST_OPTIONS } from "./support";

const HOST = (name: string, ns: string) => `${name}.${ns}.svc.cluster.local`;
const service = (name: string, ns: string, portName: string, port: number, clusterIP: string | null = "10.0.0.9") => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: ns },
  spec: { ...(clusterIP ? { clusterIP } : {}), selector: { app: name }, ports: [{ name: portName, port, targetPort: port }] },
});
const destinationRule = (name: string, ns: string, host: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: "networking.istio.io/v1alpha3",
  kind: "DestinationRule",
  metadata: { name, namespace: ns },
  spec: { host, subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }], ...extra },
});
const metaRouter = (name: string, ns: string, spec: Record<string, unknown>) => ({ apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "MetaRouter", metadata: { name, namespace: ns }, spec });
const snap = (parts: Partial<Snapshot>): Snapshot => ({ ...emptySnapshot(), ...parts });
const diag = (r: ReturnType<typeof translate>, reason: string) => r.diagnostics.filter((d) => d.reason === reason);
type Patch = { applyTo: string; patch: { operation: string; value: { name?: string; typed_config?: any } } };
const patchesOf = (r: ReturnType<typeof translate>): Patch[] => r.objects.filter((o) => o.kind === "EnvoyFilter").flatMap((o) => (o.spec as { configPatches: Patch[] }).configPatches);
const thriftRoutes = (r: ReturnType<typeof translate>) =>
  patchesOf(r).find((p) => p.patch.operation === "REPLACE")!.patch.value.typed_config.route_config.routes as { match: { service_name: string }; route: { cluster: string; request_mirror_policies?: unknown[] } }[];

test("tcp-dubbo / tcp-thrift (Aeraki's dedicated-proxy port names) are Meltemi ports; a DubboAuthorizationPolicy applies to tcp-dubbo", () => {
  const r = translate(snap({
    services: [service("orders", "shop", "tcp-dubbo", 20880), service("ledger", "shop", "tcp-thrift-api", 9090), service("plain", "shop", "tcp-dubbox", 20880)] as never[],
    dubboAuthorizationPolicies: [{ apiVersion: "dubbo.aeraki.io/v1alpha1", kind: "DubboAuthorizationPolicy", metadata: { name: "deny-boom", namespace: "shop" }, spec: { action: "DENY", rules: [{ to: [{ operation: { methods: ["boom"] } }] }] } }] as never[],
  }), TEST_OPTIONS);
  const plugins = r.objects.filter((o) => o.kind === "WasmPlugin");
  assert.deepEqual(plugins.map((o) => o.metadata.name), ["meltemi-server-ledger-9090", "meltemi-server-orders-20880"], "tcp-dubbox is not tcp-dubbo");
  const [ledger, orders] = filterConfigsOf(plugins as never[]).map((c) => c.config as { protocol: string; authorization: { name: string }[] });
  assert.equal(orders!.protocol, "dubbo");
  assert.deepEqual(orders!.authorization.map((p) => p.name), ["shop/deny-boom"], "the Dubbo policy is enforced on the tcp-dubbo service");
  assert.equal(ledger!.protocol, "thrift");
  assert.deepEqual(ledger!.authorization ?? [], [], "a DubboAuthorizationPolicy is for Dubbo services only");
  assert.equal((plugins.find((o) => o.metadata.name === "meltemi-server-orders-20880")!.spec as { failStrategy: string }).failStrategy, "FAIL_RELOAD", "fails closed (and recovers): never FAIL_OPEN where authorization applies");
  assertInvariants(r);
});

test("Thrift mirroring: thrift_proxy mirrors what the route forwards, mirrorPercentage as a fraction per million", () => {
  const host = HOST("greeter", "demo");
  const r = translate(snap({
    services: [service("greeter", "demo", "tcp-metaprotocol-thrift", 9090)] as never[],
    destinationRules: [destinationRule("greeter", "demo", host)] as never[],
    metaRouters: [metaRouter("mirror", "demo", {
      hosts: [host],
      routes: [
        { name: "say-hello", match: { attributes: { method: { exact: "sayHello" } } }, route: [{ destination: { host, subset: "v1" } }], mirror: { host, subset: "v2" }, mirrorPercentage: { value: 12.5 } },
        { name: "all-copied", route: [{ destination: { host, subset: "v2" } }], mirror: { host, subset: "v1" } },
      ],
    })] as never[],
  }), TEST_OPTIONS);
  assert.deepEqual(diag(r, "MirrorNotSupported"), []);
  const routes = thriftRoutes(r);
  const v1 = `outbound|9090|v1|${host}`;
  const v2 = `outbound|9090|v2|${host}`;
  assert.deepEqual(routes.find((x) => x.route.cluster === v1)!.route.request_mirror_policies, [{ cluster: v2, runtime_fraction: { default_value: { numerator: 125_000, denominator: "MILLION" } } }]);
  assert.deepEqual(routes.find((x) => x.route.cluster === v2)!.route.request_mirror_policies, [{ cluster: v1 }], "no mirrorPercentage: every request (Istio's and Aeraki's default)");
  assert.equal(r.status.find((s) => s.object.kind === "MetaRouter")!.conditions[0]!.reason, "Accepted");
  assertInvariants(r);
});

test("Thrift mirroring refused visibly where thrift_proxy cannot carry it: a cluster also reached without mirror, perConnection, Dubbo", () => {
  const host = HOST("greeter", "demo");
  const shared = translate(snap({
    services: [service("greeter", "demo", "tcp-metaprotocol-thrift", 9090)] as never[],
    destinationRules: [destinationRule("greeter", "demo", host)] as never[],
    metaRouters: [metaRouter("mirror", "demo", {
      hosts: [host],
      routes: [
        { name: "copied", match: { attributes: { method: { exact: "sayHello" } } }, route: [{ destination: { host, subset: "v1" } }], mirror: { host, subset: "v2" } },
        { name: "rest", route: [{ destination: { host, subset: "v1" } }] },
      ],
    })] as never[],
  }), TEST_OPTIONS);
  assert.equal(diag(shared, "MirrorNotSupported").length, 1);
  assert.equal(diag(shared, "MirrorNotSupported")[0]!.path, "spec.routes[0].mirror");
  assert.ok(thriftRoutes(shared).every((x) => x.route.request_mirror_policies === undefined), "the rest of v1's traffic is not copied");

  const perConnection = translate(snap({
    services: [service("greeter", "demo", "tcp-metaprotocol-legacy", 9090)] as never[],
    rpcProtocols: [{ apiVersion: "meltemi.dev/v1alpha1", kind: "RpcProtocol", metadata: { name: "legacy" }, spec: { codec: "thrift", routingMode: "perConnection" } }] as never[],
    destinationRules: [destinationRule("greeter", "demo", host)] as never[],
    metaRouters: [metaRouter("mirror", "demo", { hosts: [host], routes: [{ route: [{ destination: { host, subset: "v1" } }], mirror: { host, subset: "v2" } }] })] as never[],
  }), TEST_OPTIONS);
  assert.match(diag(perConnection, "MirrorNotSupported")[0]!.message, /perConnection/);
  assert.doesNotMatch(JSON.stringify(perConnection.objects), /request_mirror_policies/);

  const dubboHost = HOST("orders", "demo");
  const dubbo = translate(snap({
    services: [service("orders", "demo", "tcp-metaprotocol-dubbo", 20880, null)] as never[],
    destinationRules: [destinationRule("orders", "demo", dubboHost)] as never[],
    metaRouters: [metaRouter("mirror", "demo", { hosts: [dubboHost], routes: [{ route: [{ destination: { host: dubboHost, subset: "v1" } }], mirror: { host: dubboHost, subset: "v2" } }] })] as never[],
  }), TEST_OPTIONS);
  // Reported even when no VIP is known (render from Git): the refusal does not depend on the address.
  assert.match(diag(dubbo, "MirrorNotSupported")[0]!.message, /dubbo/);
  assert.equal(diag(dubbo, "ServiceAddressUnknown").length, 1);
});

test("no VIP in files: ServiceAddressUnknown (warning), the server side still rendered; a live object without one is an error", () => {
  const host = HOST("orders", "shop");
  const inputs = {
    services: [service("orders", "shop", "tcp-metaprotocol-dubbo", 20880, null)] as never[],
    metaRouters: [metaRouter("split", "shop", { hosts: [host], routes: [{ route: [{ destination: { host }, weight: 100 }] }] })] as never[],
  };
  const fromGit = translate(snap(inputs), TEST_OPTIONS);
  assert.deepEqual(fromGit.objects.map((o) => o.kind), ["WasmPlugin"]);
  assert.match(diag(fromGit, "ServiceAddressUnknown")[0]!.severity, /^(warning|degraded)$/);
  assert.ok(!fromGit.diagnostics.some((d) => d.severity === "error"));
  const liveEntry = {
    apiVersion: "networking.istio.io/v1", kind: "ServiceEntry", metadata: { name: "ext", namespace: "shop", uid: "u-1" },
    spec: { hosts: ["ext.example"], ports: [{ number: 7000, name: "tcp-metaprotocol-dubbo" }], resolution: "STATIC", workloadSelector: { labels: { app: "ext" } } },
  };
  const live = translate(snap({ serviceEntries: [liveEntry] as never[], metaRouters: [metaRouter("ext", "shop", { hosts: ["ext.example"], routes: [{ route: [{ destination: { host: "ext.example" } }] }] })] as never[] }), TEST_OPTIONS);
  assert.equal(diag(live, "NoServiceAddress")[0]!.severity, "error");
  assert.match(diag(live, "NoServiceAddress")[0]!.message, /0\.0\.0\.0_<port>/);
});

test("render --kubeconfig: the VIPs files lack come from the live objects; nothing else changes", async () => {
  const files = snap({
    services: [service("orders", "shop", "tcp-metaprotocol-dubbo", 20880, null), service("gone", "shop", "tcp-metaprotocol-dubbo", 20880, null), service("pinned", "shop", "tcp-dubbo", 20880, "10.0.0.77")] as never[],
    serviceEntries: [{ apiVersion: "networking.istio.io/v1alpha3", kind: "ServiceEntry", metadata: { name: "demo", namespace: "meta" }, spec: { hosts: ["demo.example"], ports: [{ number: 20880, name: "tcp-metaprotocol-dubbo" }], resolution: "STATIC" } }] as never[],
  });
  const asked: string[] = [];
  const cluster: Record<string, Record<string, unknown>> = {
    "/api/v1/namespaces/shop/services/orders": { spec: { clusterIP: "10.96.0.12", clusterIPs: ["10.96.0.12"], selector: { app: "live-only" } } },
    // Aeraki's allocator writes spec.addresses; Istio's writes status.addresses.
    "/apis/networking.istio.io/v1alpha3/namespaces/meta/serviceentries/demo": { spec: { addresses: ["240.240.0.3"] }, status: { addresses: [{ value: "240.241.0.1" }] } },
  };
  const { snapshot, report } = await withLiveAddresses(files, async (p) => {
    asked.push(p);
    return cluster[p];
  });
  assert.deepEqual(asked.sort(), ["/api/v1/namespaces/shop/services/gone", "/api/v1/namespaces/shop/services/orders", "/apis/networking.istio.io/v1alpha3/namespaces/meta/serviceentries/demo"], "objects that have a VIP are not looked up");
  const orders = snapshot.services.find((s) => s.metadata.name === "orders")!;
  assert.deepEqual(orders.spec, { clusterIP: "10.96.0.12", clusterIPs: ["10.96.0.12"], selector: { app: "orders" }, ports: [{ name: "tcp-metaprotocol-dubbo", port: 20880, targetPort: 20880 }] }, "only the address comes from the cluster");
  assert.equal((files.services[0] as { spec: { clusterIP?: string } }).spec.clusterIP, undefined, "the input is not changed in place");
  assert.deepEqual(report.unresolved, ["Service shop/gone: not in the cluster"]);
  const r = translate(snapshot, TEST_OPTIONS);
  const listeners = patchesOf(r).filter((p) => p.applyTo === "NETWORK_FILTER").length;
  assert.equal(listeners, 0, "no router: nothing on the callers' side");
  const routed = translate({ ...snapshot, metaRouters: [metaRouter("m", "meta", { hosts: ["demo.example"], routes: [{ route: [{ destination: { host: "demo.example" } }] }] })] as never[] }, TEST_OPTIONS);
  const names = routed.objects.filter((o) => o.kind === "EnvoyFilter").flatMap((o) => (o.spec as { configPatches: { match?: { listener?: { name: string } } }[] }).configPatches.map((p) => p.match?.listener?.name).filter(Boolean));
  assert.deepEqual([...new Set(names)], ["240.240.0.3_20880", "240.241.0.1_20880"]);
});

test("DestinationRule consistent hash, subset or top level: refused in the status of the routers that reach it, and on the rule", () => {
  const host = "org.apache.dubbo.samples.basic.api.demoservice";
  const entry = {
    apiVersion: "networking.istio.io/v1alpha3", kind: "ServiceEntry", metadata: { name: "demo", namespace: "meta" },
    spec: { hosts: [host], addresses: ["240.240.0.1"], ports: [{ number: 20880, name: "tcp-metaprotocol-dubbo" }], resolution: "STATIC", workloadSelector: { labels: { app: "demo" } } },
  };
  const router = metaRouter("sample", "meta", { hosts: [host], routes: [{ name: "sample", route: [{ destination: { host, subset: "sample" } }] }] });
  // Shapes of aeraki-mesh/aeraki test/e2e/metaprotocol/testdata/consistent-hash-lb (subset level) and
  // demo/metaprotocol-dubbo/consistent-hash-lb (top level).
  const subsetLevel = {
    apiVersion: "networking.istio.io/v1alpha3", kind: "DestinationRule", metadata: { name: "dubbo-sample-provider", namespace: "meta" },
    spec: { host, subsets: [{ name: "sample", labels: { app: "dubbo-sample-provider" }, trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: "method" } } } }, { name: "other", labels: { app: "x" }, trafficPolicy: { loadBalancer: { consistentHash: { useSourceIp: true } } } }] },
  };
  const r = translate(snap({ serviceEntries: [entry] as never[], destinationRules: [subsetLevel] as never[], metaRouters: [router] as never[] }), TEST_OPTIONS);
  const onRouter = diag(r, "ConsistentHashNotApplied").filter((d) => d.object.kind === "MetaRouter");
  assert.equal(onRouter.length, 1, "only the subset the route reaches");
  assert.match(onRouter[0]!.severity, /^(warning|degraded)$/, "not in force: never an info line only");
  assert.equal(onRouter[0]!.path, "spec.routes[0]");
  assert.match(onRouter[0]!.message, /spec\.subsets\[0\]\.trafficPolicy\.loadBalancer\.consistentHash/);
  assert.match(onRouter[0]!.message, /httpHeaderName "method"/);
  const status = r.status.find((s) => s.object.kind === "MetaRouter")!.conditions[0]!;
  assert.match(status.message, /consistentHash/, "the refusal is part of the router's status");
  const onRule = diag(r, "ConsistentHashNotApplied").filter((d) => d.object.kind === "DestinationRule").map((d) => d.path);
  assert.deepEqual(onRule, ["spec.subsets[0].trafficPolicy.loadBalancer.consistentHash", "spec.subsets[1].trafficPolicy.loadBalancer.consistentHash"]);

  const topLevel = { ...subsetLevel, spec: { host, subsets: [{ name: "sample", labels: { app: "dubbo-sample-provider" } }], trafficPolicy: { loadBalancer: { consistentHash: { httpHeaderName: "method" } } } } };
  const t = translate(snap({ serviceEntries: [entry] as never[], destinationRules: [topLevel] as never[], metaRouters: [router] as never[] }), TEST_OPTIONS);
  const top = diag(t, "ConsistentHashNotApplied").filter((d) => d.object.kind === "MetaRouter");
  assert.equal(top.length, 1);
  assert.match(top[0]!.message, /spec\.trafficPolicy\.loadBalancer\.consistentHash/);
  assert.match(t.status.find((s) => s.object.kind === "MetaRouter")!.conditions[0]!.message, /consistentHash/);

  // A DestinationRule of a service that is not Meltemi's is Istio's business: nothing said.
  const http = translate(snap({ destinationRules: [{ ...topLevel, spec: { ...topLevel.spec, host: "web.example" } }] as never[] }), TEST_OPTIONS);
  assert.deepEqual(http.diagnostics, []);
});
