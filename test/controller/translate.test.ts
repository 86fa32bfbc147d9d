// The translation's semantics beyond the golden files: purity and order, scoping (never mesh-wide by
// accident), discovery, precedence between Meltemi and Aeraki objects, robustness on malformed input.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { translate } from "../../controller/translate/translate";
import { emptySnapshot, type Snapshot } from "../../controller/translate/snapshot";
import { assertInvariants, loadCase, testdata, TEST_OPTIONS } from "./support";

const svc = (name: string, ns: string, extra: Record<string, unknown> = {}, labels?: Record<string, string>) => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace: ns, ...(labels ? { labels } : {}) },
  spec: { clusterIP: "10.0.0.9", selector: { app: name }, ports: [{ name: "tcp-metaprotocol-dubbo", port: 20880 }], ...extra },
});
const router = (name: string, ns: string, spec: Record<string, unknown>, annotations?: Record<string, string>) => ({
  apiVersion: "meltemi.dev/v1alpha1", kind: "RpcRouter", metadata: { name, namespace: ns, ...(annotations ? { annotations } : {}) }, spec,
});
const metaRouter = (name: string, ns: string, spec: Record<string, unknown>, annotations?: Record<string, string>) => ({
  apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "MetaRouter", metadata: { name, namespace: ns, ...(annotations ? { annotations } : {}) }, spec,
});
const snap = (parts: Partial<Snapshot>): Snapshot => ({ ...emptySnapshot(), ...parts });
const kinds = (r: ReturnType<typeof translate>) => r.objects.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`);
const reasons = (r: ReturnType<typeof translate>) => r.diagnostics.map((d) => `${d.severity} ${d.reason}`);

test("pure and deterministic: same output twice, and whatever the input order", () => {
  for (const name of readdirSync(testdata).filter((d) => existsSync(path.join(testdata, d, "input.yaml")))) {
    const { snapshot, options } = loadCase(name);
    const a = translate(snapshot, options);
    assert.deepEqual(translate(snapshot, options), a, name);
    const reversed = Object.fromEntries(Object.entries(snapshot).map(([k, v]) => [k, [...(v as unknown[])].reverse()])) as unknown as Snapshot;
    assert.deepEqual(translate(reversed, options).objects, a.objects, `${name}: order of inputs changed the output`);
  }
});

test("a router's callers default to its own namespace; clients.namespaces and the Aeraki annotation widen it", () => {
  const services = [svc("reviews", "shop")] as never[];
  const own = translate(snap({ services, rpcRouters: [router("r", "shop", { host: "reviews" })] as never[] }), TEST_OPTIONS);
  assert.deepEqual(kinds(own), ["WasmPlugin shop/meltemi-server-reviews-20880", "EnvoyFilter shop/meltemi-client-reviews.shop-20880"]);
  const wide = translate(snap({ services, rpcRouters: [router("r", "shop", { host: "reviews", clients: { namespaces: ["a", "b"] } })] as never[] }), TEST_OPTIONS);
  assert.deepEqual(kinds(wide).filter((k) => k.startsWith("EnvoyFilter")), ["EnvoyFilter a/meltemi-client-reviews.shop-20880", "EnvoyFilter b/meltemi-client-reviews.shop-20880"]);
  const annotated = translate(snap({ services, metaRouters: [metaRouter("m", "shop", { hosts: ["reviews.shop.svc.cluster.local"], routes: [{ route: [{ destination: { host: "reviews" } }] }] }, { "meltemi.dev/client-namespaces": "web, jobs" })] as never[] }), TEST_OPTIONS);
  assert.deepEqual(kinds(annotated).filter((k) => k.startsWith("EnvoyFilter")), ["EnvoyFilter jobs/meltemi-client-reviews.shop-20880", "EnvoyFilter web/meltemi-client-reviews.shop-20880"]);
  assertInvariants(annotated);
});

test("mesh-wide only when asked: exportTo * lands in the root namespace with a MeshWide diagnostic", () => {
  const r = translate(snap({ services: [svc("reviews", "shop")] as never[], metaRouters: [metaRouter("m", "shop", { hosts: ["reviews.shop.svc.cluster.local"], exportTo: ["*"], routes: [{ route: [{ destination: { host: "reviews" } }] }] })] as never[] }), TEST_OPTIONS);
  assert.ok(kinds(r).includes("EnvoyFilter istio-system/meltemi-client-reviews.shop-20880"));
  assert.ok(reasons(r).includes("info MeshWide"));
  assertInvariants(r);
});

test("a MetaRouter is mesh-wide by default, as in Aeraki; exportTo \".\" or the annotation narrows it", () => {
  const services = [svc("reviews", "shop")] as never[];
  const spec = { hosts: ["reviews.shop.svc.cluster.local"], routes: [{ route: [{ destination: { host: "reviews" } }] }] };
  const byDefault = translate(snap({ services, metaRouters: [metaRouter("m", "shop", spec)] as never[] }), TEST_OPTIONS);
  assert.deepEqual(kinds(byDefault).filter((k) => k.startsWith("EnvoyFilter")), ["EnvoyFilter istio-system/meltemi-client-reviews.shop-20880"]);
  assert.deepEqual(reasons(byDefault), ["info MeshWide"]);
  assert.equal(byDefault.status.find((s) => s.object.kind === "MetaRouter")!.conditions[0]!.reason, "Accepted");
  assertInvariants(byDefault);
  const own = translate(snap({ services, metaRouters: [metaRouter("m", "shop", { ...spec, exportTo: ["."] })] as never[] }), TEST_OPTIONS);
  assert.deepEqual(kinds(own).filter((k) => k.startsWith("EnvoyFilter")), ["EnvoyFilter shop/meltemi-client-reviews.shop-20880"]);
  assert.deepEqual(reasons(own), []);
  const other = translate(snap({ services, metaRouters: [metaRouter("m", "shop", spec, { "meltemi.dev/client-namespaces": "web" })] as never[] }), TEST_OPTIONS);
  assert.deepEqual(kinds(other).filter((k) => k.startsWith("EnvoyFilter")), ["EnvoyFilter web/meltemi-client-reviews.shop-20880"]);
});

test("gateways: without \"mesh\", a MetaRouter configures no sidecar", () => {
  const r = translate(snap({ services: [svc("reviews", "shop")] as never[], metaRouters: [metaRouter("m", "shop", { hosts: ["reviews.shop.svc.cluster.local"], gateways: ["istio-system/gw"], routes: [{ route: [{ destination: { host: "reviews" } }] }] })] as never[] }), TEST_OPTIONS);
  assert.deepEqual(kinds(r), ["WasmPlugin shop/meltemi-server-reviews-20880"]);
  assert.deepEqual(reasons(r), ["degraded GatewaysNotSupported", "degraded NoSidecars"]);
  const ready = r.status.find((s) => s.object.kind === "MetaRouter")!.conditions[0]!;
  assert.deepEqual([ready.status, ready.reason], ["False", "GatewaysNotSupported"]);
});

test("an RpcRouter wins over a MetaRouter for the same host; the MetaRouter is told", () => {
  const r = translate(snap({
    services: [svc("reviews", "shop")] as never[],
    rpcRouters: [router("z", "shop", { host: "reviews", routes: [{ destinations: [{ subset: "v9" }] }] })] as never[],
    metaRouters: [metaRouter("a", "shop", { hosts: ["reviews.shop.svc.cluster.local"], routes: [{ route: [{ destination: { host: "reviews", subset: "v1" } }] }] })] as never[],
  }), TEST_OPTIONS);
  const loser = r.status.find((s) => s.object.kind === "MetaRouter")!;
  assert.equal(loser.conditions[0]!.status, "False");
  assert.equal(loser.conditions[0]!.reason, "Conflict");
  assert.match(JSON.stringify(r.objects), /outbound\|20880\|v9\|reviews/);
  assert.doesNotMatch(JSON.stringify(r.objects), /\|v1\|/);
});

test("discovery: port names, the label with and without the ports annotation; appProtocol alone is not enough", () => {
  const plain = { ports: [{ name: "tcp-rpc", port: 20880 }, { name: "http-admin", port: 8080 }] };
  assert.deepEqual(kinds(translate(snap({ services: [svc("a", "n", plain)] as never[] }), TEST_OPTIONS)), []);
  const labelled = translate(snap({ services: [svc("a", "n", plain, { "meltemi.dev/protocol": "dubbo" })] as never[] }), TEST_OPTIONS);
  assert.deepEqual(kinds(labelled), ["WasmPlugin n/meltemi-server-a-20880"], "the http port is not taken");
  const app = { ports: [{ name: "rpc", port: 20880, appProtocol: "meltemi.dev/dubbo" }] };
  assert.deepEqual(kinds(translate(snap({ services: [svc("a", "n", app)] as never[] }), TEST_OPTIONS)), []);
  const sniffed = translate(snap({ services: [svc("a", "n", { ports: [{ name: "dubbo", port: 20880 }] }, { "meltemi.dev/protocol": "dubbo" })] as never[] }), TEST_OPTIONS);
  assert.deepEqual(reasons(sniffed), ["warning PortNameNotTcp"]);
});

test("ServiceEntry VIPs from spec.addresses and Istio's status.addresses; CIDRs are not VIPs", () => {
  const se = {
    apiVersion: "networking.istio.io/v1", kind: "ServiceEntry", metadata: { name: "ext", namespace: "n" },
    spec: { hosts: ["svc.example"], addresses: ["10.1.0.0/16"], ports: [{ number: 9090, name: "tcp-metaprotocol-thrift" }], workloadSelector: { labels: { app: "x" } } },
    status: { addresses: [{ value: "240.240.0.7" }] },
  };
  const r = translate(snap({ serviceEntries: [se] as never[], rpcRouters: [router("r", "n", { host: "svc.example" })] as never[] }), TEST_OPTIONS);
  const ef = r.objects.find((o) => o.kind === "EnvoyFilter") as any;
  assert.deepEqual(ef.spec.configPatches.filter((p: any) => p.match).map((p: any) => p.match.listener.name), ["240.240.0.7_9090", "240.240.0.7_9090"]);
  assert.ok(reasons(r).includes("warning CidrAddress"));
});

test("perRequest needs a native router: an RpcRouter forcing it on another codec is refused", () => {
  const r = translate(snap({
    rpcProtocols: [{ apiVersion: "meltemi.dev/v1alpha1", kind: "RpcProtocol", metadata: { name: "kv" }, spec: { codec: "kv" } }] as never[],
    services: [svc("a", "n", { ports: [{ name: "tcp-metaprotocol-kv", port: 7000 }] })] as never[],
    rpcRouters: [router("r", "n", { host: "a", routingMode: "perRequest" })] as never[],
  }), { ...TEST_OPTIONS, codecs: ["dubbo", "thrift", "kv"] });
  assert.ok(reasons(r).includes("error NoNativeRouter"));
  assert.deepEqual(kinds(r), ["WasmPlugin n/meltemi-server-a-7000"]);
});

test("a router with faults only still forwards: a default route to the service", () => {
  const r = translate(snap({ services: [svc("a", "n")] as never[], rpcRouters: [router("r", "n", { host: "a", faults: [{ abort: { percent: 1 } }] })] as never[] }), TEST_OPTIONS);
  const ef = r.objects.find((o) => o.kind === "EnvoyFilter") as any;
  const config = JSON.parse(ef.spec.configPatches[0].patch.value.typed_config.config.configuration.value);
  assert.deepEqual(config.routes, [{ name: "default", destinations: [{ cluster: "outbound|20880||a.n.svc.cluster.local", weight: 1 }] }]);
  assertInvariants(r);
});

test("garbage in: no crash, diagnostics out", () => {
  const garbage: unknown[] = [
    { apiVersion: "meltemi.dev/v1alpha1", kind: "RpcRouter", metadata: { name: "g1", namespace: "n" } },
    { apiVersion: "meltemi.dev/v1alpha1", kind: "RpcRouter", metadata: { name: "g2", namespace: "n" }, spec: "text" },
    { apiVersion: "meltemi.dev/v1alpha1", kind: "RpcRouter", metadata: { name: "g3", namespace: "n" }, spec: { host: 7, routes: { a: 1 } } },
  ];
  const services: unknown[] = [
    { apiVersion: "v1", kind: "Service", metadata: { name: "s1", namespace: "n" } },
    { apiVersion: "v1", kind: "Service", metadata: { name: "s2", namespace: "n" }, spec: { ports: [{ name: "tcp-metaprotocol-dubbo", port: "x" }, { name: "tcp-metaprotocol-dubbo", port: 70000 }] } },
  ];
  const metaRouters: unknown[] = [
    metaRouter("m1", "n", { hosts: [], routes: [] }),
    metaRouter("m2", "n", { hosts: ["x"], routes: [{ route: [{ destination: {} }] }] }),
    metaRouter("m3", "n", { hosts: ["s2"], routes: [{ route: [{ destination: { host: "s2" }, weight: 0 }, { destination: { host: "s2" }, weight: 0 }] }] }),
    { apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "MetaRouter", metadata: { name: "m4", namespace: "n" }, spec: null },
  ];
  const r = translate(snap({ rpcRouters: garbage as never[], services: services as never[], metaRouters: metaRouters as never[] }), TEST_OPTIONS);
  assert.deepEqual(r.objects, []);
  for (const s of r.status) assert.equal(s.conditions[0]!.status, "False", `${s.object.name} should not be Ready`);
});

test("invalid options are refused before anything is generated", () => {
  assert.throws(() => translate(emptySnapshot(), { wasm: { url: "ftp://x", sha256: "a".repeat(64) } }), /wasm url/);
  assert.throws(() => translate(emptySnapshot(), { wasm: { url: "oci://x", sha256: "XYZ" } }), /sha256/);
  assert.throws(() => translate(emptySnapshot(), { ...TEST_OPTIONS, earlyDataBytes: 2 << 20 }), /earlyDataBytes/);
});
