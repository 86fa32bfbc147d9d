// Issue 15's review: the cases an adversarial review found still silent or broader than written after
// the first round (test/controller/strictness.test.ts), each shown refused or not Ready.
import { test } from "node:test";
import assert from "node:assert/strict";
import { emptySnapshot, type Snapshot } from "../../controller/translate/snapshot";
import { translate, type TranslateResult } from "../../controller/translate/translate";
import { filterConfigsOf, TEST_OPTIONS } from "./support";

const HOST = "reviews.shop.svc.cluster.local";
const service = (name = "reviews", port = "tcp-metaprotocol-dubbo", namespace = "shop") => ({
  apiVersion: "v1", kind: "Service", metadata: { name, namespace },
  spec: { clusterIP: "10.0.0.9", selector: { app: name }, ports: [{ name: port, port: 20880, targetPort: 20880 }] },
});
const metaRouter = (spec: Record<string, unknown>, name = "m", namespace = "shop") => ({ apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "MetaRouter", metadata: { name, namespace }, spec });
const dap = (spec: Record<string, unknown>, namespace = "shop") => ({ apiVersion: "dubbo.aeraki.io/v1alpha1", kind: "DubboAuthorizationPolicy", metadata: { name: "p", namespace }, spec });
const snap = (parts: Partial<Snapshot>): Snapshot => ({ ...emptySnapshot(), services: [service()] as never[], ...parts });
const run = (parts: Partial<Snapshot>) => translate(snap(parts), TEST_OPTIONS);
const ready = (r: TranslateResult, kind: string, name?: string) => {
  const c = r.status.find((s) => s.object.kind === kind && (name === undefined || s.object.name === name))!.conditions[0]!;
  return `${c.status} ${c.reason}`;
};
const errors = (r: TranslateResult) => r.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.reason} ${d.path ?? ""}`.trim());
const serverConfigs = (r: TranslateResult) => filterConfigsOf(r.objects as never).filter((c) => c.where.startsWith("WasmPlugin")).map((c) => c.config as Record<string, unknown>);

test("E1: a misspelled top-level key (spce:) refuses Aeraki and Slime objects, never an ALLOW without rules", () => {
  const { spec: _, ...bare } = dap({});
  const r = run({ dubboAuthorizationPolicies: [{ ...bare, spce: { action: "DENY", rules: [{ from: [{ source: { namespaces: ["dev"] } }] }] } }] as never[] });
  assert.deepEqual(errors(r), ["UnknownField spce"]);
  assert.equal(ready(r, "DubboAuthorizationPolicy"), "False UnknownField");
  assert.deepEqual(serverConfigs(r).flatMap((c) => (c.authorization as unknown[] | undefined) ?? []), [], "no deny-all from the refused object");

  const mr = run({ metaRouters: [{ ...metaRouter({ hosts: [HOST], routes: [{ route: [{ destination: { host: HOST } }] }] }), sepc: {} }] as never[] });
  assert.deepEqual(errors(mr), ["UnknownField sepc"]);
  const ap = run({ applicationProtocols: [{ apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "ApplicationProtocol", metadata: { name: "p" }, spce: { protocol: "dubbo", codec: "aeraki.meta_protocol.codec.dubbo" } }] as never[] });
  assert.deepEqual(errors(ap), ["UnknownField spce"]);
  const sl = run({ smartLimiters: [{ apiVersion: "microservice.slime.io/v1alpha2", kind: "SmartLimiter", metadata: { name: "reviews", namespace: "shop" }, spec: { sets: { _base: { descriptor: [{ condition: "true", action: { quota: "1", fill_interval: { seconds: 1 } } }] } } }, spcee: {} }] as never[] });
  assert.deepEqual(errors(sl), ["UnknownField spcee"]);
  // status is a Kubernetes object's own key: not unknown.
  const withStatus = run({ dubboAuthorizationPolicies: [{ ...dap({ action: "DENY", rules: [{ from: [{ source: { namespaces: ["dev"] } }] }] }), status: {} }] as never[] });
  assert.deepEqual(errors(withStatus), []);
});

const rap = (spec: Record<string, unknown>, name = "deny-dev") => ({ apiVersion: "meltemi.dev/v1alpha1", kind: "RpcAuthorizationPolicy", metadata: { name, namespace: "shop" }, spec });
const DENY_DEV = { action: "DENY", rules: [{ from: [{ source: { namespaces: ["dev"] } }] }] };
const degraded = (r: TranslateResult) => r.diagnostics.filter((d) => d.severity === "degraded").map((d) => `${d.object.kind} ${d.reason} ${d.path ?? ""}`.trim());

test("D3, K1: an authorization policy enforced nowhere is not Ready (no codec; hosts naming no Meltemi service)", () => {
  const noCodec = translate({ ...emptySnapshot(), services: [service("brpc", "tcp-metaprotocol-brpc")] as never[], rpcAuthorizationPolicies: [rap(DENY_DEV)] as never[] }, TEST_OPTIONS);
  assert.deepEqual(degraded(noCodec), ["RpcAuthorizationPolicy CodecNotAvailable"]);
  assert.equal(ready(noCodec, "RpcAuthorizationPolicy"), "False CodecNotAvailable");

  const typo = run({ rpcAuthorizationPolicies: [rap({ ...DENY_DEV, hosts: ["reviewz"] })] as never[] });
  assert.deepEqual(degraded(typo), ["RpcAuthorizationPolicy NoSuchService spec.hosts[0]"]);
  assert.equal(ready(typo, "RpcAuthorizationPolicy"), "False NoSuchService");
  // One host right, one wrong: enforced on the right one, and still not Ready.
  const half = run({ rpcAuthorizationPolicies: [rap({ ...DENY_DEV, hosts: ["reviews", "reviewz"] })] as never[] });
  assert.equal(ready(half, "RpcAuthorizationPolicy"), "False NoSuchService");
  assert.equal((serverConfigs(half)[0]!.authorization as unknown[]).length, 1);
  // A host of another namespace: a policy covers its own namespace's services.
  const other = translate({ ...emptySnapshot(), services: [service(), service("pay", "tcp-metaprotocol-dubbo", "bank")] as never[], rpcAuthorizationPolicies: [rap({ ...DENY_DEV, hosts: ["pay.bank.svc.cluster.local"] })] as never[] }, TEST_OPTIONS);
  assert.equal(ready(other, "RpcAuthorizationPolicy"), "False OtherNamespace");
  // A namespace-wide policy with no Meltemi service in its namespace.
  const none = translate({ ...emptySnapshot(), services: [service("pay", "tcp-metaprotocol-dubbo", "bank")] as never[], rpcAuthorizationPolicies: [rap(DENY_DEV)] as never[] }, TEST_OPTIONS);
  assert.equal(ready(none, "RpcAuthorizationPolicy"), "False NotEnforced");
  // Enforced: Ready.
  assert.equal(ready(run({ rpcAuthorizationPolicies: [rap(DENY_DEV)] as never[] }), "RpcAuthorizationPolicy"), "True Accepted");
});

test("D1, D2: an ApplicationProtocol may not redefine a built-in protocol; a DubboAuthorizationPolicy on a port decoded otherwise is not Ready", () => {
  const ap = (codec: string, namespace = "aaa") => ({ apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "ApplicationProtocol", metadata: { name: "dubbo", namespace }, spec: { protocol: "dubbo", codec } });
  const svc = service("reviews", "tcp-dubbo");
  for (const codec of ["aeraki.meta_protocol.codec.thrift", "aeraki.meta_protocol.codec.nosuch"]) {
    const r = translate({ ...emptySnapshot(), services: [svc] as never[], applicationProtocols: [ap(codec)] as never[], dubboAuthorizationPolicies: [dap(DENY_DEV)] as never[] }, TEST_OPTIONS);
    assert.deepEqual(errors(r), ["RedefinesBuiltIn spec.codec"], codec);
    assert.equal(ready(r, "DubboAuthorizationPolicy"), "True Accepted", "the built-in dubbo codec stays: the policy is enforced");
    assert.equal((serverConfigs(r)[0]!.authorization as unknown[]).length, 1);
    assert.equal(serverConfigs(r)[0]!.protocol, "dubbo");
  }
  // With the built-in's own codec: allowed (Aeraki's samples define dubbo so).
  assert.deepEqual(errors(translate({ ...emptySnapshot(), services: [svc] as never[], applicationProtocols: [ap("aeraki.meta_protocol.codec.dubbo")] as never[] }, TEST_OPTIONS)), []);
  // A cluster-scoped RpcProtocol named dubbo with another codec (a cluster admin's choice): the
  // DubboAuthorizationPolicy is not enforced on those ports, and says so.
  const rp = { apiVersion: "meltemi.dev/v1alpha1", kind: "RpcProtocol", metadata: { name: "dubbo" }, spec: { codec: "thrift" } };
  const r = translate({ ...emptySnapshot(), services: [svc] as never[], rpcProtocols: [rp] as never[], dubboAuthorizationPolicies: [dap(DENY_DEV)] as never[] }, TEST_OPTIONS);
  assert.equal(ready(r, "DubboAuthorizationPolicy"), "False ProtocolRedefined");
});

test("I1: a policy that cannot be enforced on one service (named targetPort) stays enforced on the others, degraded", () => {
  const named = { ...service("named"), spec: { clusterIP: "10.0.0.8", selector: { app: "named" }, ports: [{ name: "tcp-metaprotocol-dubbo", port: 20880, targetPort: "dubbo" }] } };
  const r = translate({ ...emptySnapshot(), services: [service(), named] as never[], rpcAuthorizationPolicies: [rap(DENY_DEV)] as never[] }, TEST_OPTIONS);
  assert.deepEqual(errors(r), []);
  assert.equal(ready(r, "RpcAuthorizationPolicy"), "False NamedTargetPort");
  assert.match(r.status.find((s) => s.object.kind === "RpcAuthorizationPolicy")!.conditions[0]!.message, /not enforced on named\.shop\.svc\.cluster\.local port 20880/);
  assert.equal(serverConfigs(r).length, 1, "the other service's plugin");
  assert.equal((serverConfigs(r)[0]!.authorization as unknown[]).length, 1, "still enforced there");
  assert.ok(!r.status.find((s) => s.object.kind === "RpcAuthorizationPolicy")!.refused);
});

test("H1, G4: a null attribute (`method:`) is refused as Aeraki's webhook does, and `method: {}` too; regex \"*\" and exact \"\" stay presence", () => {
  for (const attr of [null, {}]) {
    const r = run({ metaRouters: [metaRouter({ hosts: [HOST], routes: [{ match: { attributes: { method: attr } }, route: [{ destination: { host: HOST, subset: "v1" } }] }] })] as never[] });
    assert.deepEqual(errors(r), ["InvalidMatch spec.routes[0].match.attributes.method"], JSON.stringify(attr));
    assert.equal(ready(r, "MetaRouter"), "False InvalidMatch");
    const l = run({ metaRouters: [metaRouter({ hosts: [HOST], localRateLimit: { conditions: [{ match: { attributes: { method: attr } }, tokenBucket: { maxTokens: 5, fillInterval: "1s" } }] } })] as never[] });
    assert.deepEqual(errors(l), ["InvalidMatch spec.localRateLimit.conditions[0].match.attributes.method"]);
  }
  const ok = run({ metaRouters: [metaRouter({ hosts: [HOST], routes: [{ match: { attributes: { a: { regex: "*" }, b: { exact: "" } } }, route: [{ destination: { host: HOST, subset: "v1" } }] }] })] as never[] });
  assert.deepEqual(errors(ok), []);
});

test("H2, L2, C3, H4, H3: Aeraki's webhook rules for mirrorPercentage, subset, port, host and exportTo", () => {
  const mr = (r: Record<string, unknown>, extra: Record<string, unknown> = {}) => run({ metaRouters: [metaRouter({ hosts: [HOST], routes: [{ route: [{ destination: { host: HOST, subset: "v1" } }], ...r }], ...extra })] as never[] });
  const mirror = { host: HOST, subset: "v2" };
  // mirrorPercentage: above 0, at most 100, and only with mirror.
  for (const mp of [{ value: 0 }, { value: -5 }, {}, { value: 101 }]) {
    assert.deepEqual(errors(mr({ mirror, mirrorPercentage: mp })), ["InvalidMirror spec.routes[0].mirrorPercentage.value"], JSON.stringify(mp));
  }
  assert.deepEqual(errors(mr({ mirrorPercentage: { value: 50 } })), ["InvalidMirror spec.routes[0].mirrorPercentage"]);
  assert.deepEqual(errors(mr({ mirror, mirrorPercentage: { value: 0.5 } })), []);
  // An empty subset would route to every pod; a subset name is a DNS-1123 label.
  assert.deepEqual(errors(mr({ route: [{ destination: { host: HOST, subset: "" } }] })), ["InvalidSubset spec.routes[0].route[0].destination.subset"]);
  assert.deepEqual(errors(mr({ route: [{ destination: { host: HOST, subset: "V_1" } }] })), ["InvalidSubset spec.routes[0].route[0].destination.subset"]);
  assert.deepEqual(errors(mr({ mirror: { host: HOST, subset: "" } })), ["InvalidSubset spec.routes[0].mirror.subset"]);
  // Ports 1..65535 (a port selector without a number is 0).
  for (const port of [{ number: 70000 }, { number: 0 }, {}]) {
    assert.deepEqual(errors(mr({ route: [{ destination: { host: HOST, port } }] })), ["InvalidPort spec.routes[0].route[0].destination.port.number"], JSON.stringify(port));
  }
  // Hosts: non-empty host names.
  assert.deepEqual(errors(mr({ route: [{ destination: { host: "" } }] })), ["InvalidHost spec.routes[0].route[0].destination.host"]);
  assert.deepEqual(errors(run({ metaRouters: [metaRouter({ hosts: [""], routes: [{ route: [{ destination: { host: HOST } }] }] })] as never[] })).slice(0, 1), ["InvalidHost spec.hosts[0]"]);
  assert.deepEqual(errors(mr({ route: [{ destination: { host: "10.0.0.1" } }] })), ["InvalidHost spec.routes[0].route[0].destination.host"]);
  // exportTo as Aeraki's validateExportTo.
  for (const exportTo of [["a", "a"], [".", "shop"], ["*", "a"], ["~", "a"], ["Not_A_Namespace"]]) {
    assert.deepEqual(errors(mr({}, { exportTo })), ["InvalidExportTo spec.exportTo"], JSON.stringify(exportTo));
  }
  for (const exportTo of [["."], ["*"], ["a", "b"], [".", "a"]]) assert.deepEqual(errors(mr({}, { exportTo })), [], JSON.stringify(exportTo));
  // "~": exported to no one: no caller gets the routing (not a namespace named "~").
  const none = mr({}, { exportTo: ["~"] });
  assert.deepEqual(errors(none), []);
  assert.equal(none.objects.filter((o) => o.kind === "EnvoyFilter").length, 0);
});

test("F5, F1: a SmartLimiter set for a subset no DestinationRule defines is not Ready; one naming no service warns NoSuchService", () => {
  const sl = (name: string, sets: Record<string, unknown>) => ({ apiVersion: "microservice.slime.io/v1alpha2", kind: "SmartLimiter", metadata: { name, namespace: "shop" }, spec: { sets } });
  const descriptor = { descriptor: [{ condition: "true", action: { quota: "1", fill_interval: { seconds: 1 } } }] };
  // With an engine (adaptiveQuotas given: the controller with --prometheus-url), the only thing not in force is the subset.
  const r = run({ smartLimiters: [sl("reviews", { v9: descriptor })] as never[], adaptiveQuotas: new Map() });
  assert.deepEqual(degraded(r), ["SmartLimiter SubsetNotFound"]);
  assert.equal(ready(r, "SmartLimiter"), "False SubsetNotFound");
  // A typo in the name (Slime's rule: the service's name): nothing is limited, and the status says so.
  const typo = run({ smartLimiters: [sl("reviewz", { _base: descriptor })] as never[], adaptiveQuotas: new Map() });
  assert.deepEqual(typo.diagnostics.map((d) => `${d.severity} ${d.reason}`), ["warning NoSuchService"]);
  assert.equal(ready(typo, "SmartLimiter"), "True AcceptedWithWarnings");
  // A Service that is not Meltemi's (HTTP): Slime's, an info.
  const http = translate({ ...emptySnapshot(), services: [service(), service("web", "http-web")] as never[], smartLimiters: [sl("web", { _base: descriptor })] as never[], adaptiveQuotas: new Map() }, TEST_OPTIONS);
  assert.deepEqual(http.diagnostics.filter((d) => d.object.kind === "SmartLimiter").map((d) => `${d.severity} ${d.reason}`), ["info NotAMeltemiService"]);
});

test("A, A2: MetaRouters of another namespace: no localRateLimit on its pods; in a routing conflict the host's own namespace wins", () => {
  const own = metaRouter({ hosts: [HOST], routes: [{ route: [{ destination: { host: HOST, subset: "v1" } }] }] }, "zzz", "shop");
  const foreignRoute = metaRouter({ hosts: [HOST], routes: [{ route: [{ destination: { host: HOST, subset: "v2" } }] }] }, "aaa", "aaa");
  const r = run({ metaRouters: [own, foreignRoute] as never[] });
  assert.deepEqual(errors(r), ["Conflict"]);
  assert.equal(ready(r, "MetaRouter", "zzz").split(" ")[0], "True");
  assert.equal(ready(r, "MetaRouter", "aaa"), "False Conflict");
  const routes = filterConfigsOf(r.objects as never).filter((c) => c.where.startsWith("EnvoyFilter")).map((c) => JSON.stringify(c.config));
  assert.equal(routes.length, 1);
  assert.match(routes[0]!, /outbound\|20880\|v1\|/);
  // Without the host's own, a MetaRouter of another namespace routes it (mesh-scoped, as in Aeraki).
  assert.deepEqual(errors(run({ metaRouters: [foreignRoute] as never[] })), []);
  // A localRateLimit on another namespace's service: refused, the whole MetaRouter.
  const foreignLimit = metaRouter({ hosts: [HOST], localRateLimit: { tokenBucket: { maxTokens: 1, fillInterval: "24h" } }, routes: [{ route: [{ destination: { host: HOST, subset: "v2" } }] }] }, "evil", "aaa");
  const l = run({ metaRouters: [foreignLimit] as never[] });
  assert.deepEqual(errors(l), ["OtherNamespace spec.localRateLimit"]);
  assert.equal(r.objects.length > 0, true);
  assert.deepEqual(serverConfigs(l).map((c) => c.localRateLimit), [undefined], "no limit on the service's pods");
  assert.equal(l.objects.filter((o) => o.kind === "EnvoyFilter").length, 0, "nothing from the refused MetaRouter");
});
