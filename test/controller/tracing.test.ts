// Istio's tracing settings (MeshConfig extensionProviders / defaultProviders, Telemetry tracing) and
// Meltemi's RpcProtocol override, turned into the filter's `tracing` section: the pure resolution
// (controller/translate/tracing.ts) and what the translation writes into each plugin's configuration.
import { test } from "node:test";
import assert from "node:assert/strict";
import { translate } from "../../controller/translate/translate";
import { emptySnapshot, type Snapshot } from "../../controller/translate/snapshot";
import { tracingFor, type MeshTracingConfig } from "../../controller/translate/tracing";
import { MeshConfigError, parseMeshConfig } from "../../controller/translate/mesh_config";
import { assertInvariants, filterConfigsOf, TEST_OPTIONS } from "./support";

const MESH: MeshTracingConfig = {
  extensionProviders: [
    { name: "zipkin", zipkin: { service: "zipkin.istio-system.svc.cluster.local", port: 9411 } },
    { name: "otel", opentelemetry: { service: "observability/otel-collector.observability.svc.cluster.local", port: 4318, http: { path: "v1/traces", timeout: "2s" } } },
    { name: "otel-grpc", opentelemetry: { service: "otel-collector.observability.svc.cluster.local", port: 4317 } },
    { name: "dd", datadog: { service: "datadog-agent.dd.svc.cluster.local", port: 8126 } },
  ],
  defaultProviders: { tracing: ["zipkin"] },
};

const telemetry = (namespace: string, name: string, tracing: unknown[], extra: Record<string, unknown> = {}) => ({
  apiVersion: "telemetry.istio.io/v1", kind: "Telemetry", metadata: { name, namespace }, spec: { tracing, ...extra },
});
const base = { side: "server" as const, namespace: "shop", rootNamespace: "istio-system", mesh: MESH, telemetries: [] };

test("defaultProviders names the provider; a zipkin provider is Istio's outbound cluster of its service and port", () => {
  assert.deepEqual(tracingFor(base), {
    tracing: { format: "zipkin", collectorCluster: "outbound|9411||zipkin.istio-system.svc.cluster.local", collectorAuthority: "zipkin.istio-system.svc.cluster.local:9411" },
    notes: [],
  });
  assert.equal(tracingFor({ ...base, mesh: { extensionProviders: MESH.extensionProviders } }).tracing, undefined, "no provider named anywhere: off");
  assert.equal(tracingFor({ ...base, mesh: undefined }).tracing, undefined);
});

test("Telemetry: mesh-wide in the root namespace, overridden field by field by the namespace's; match.mode picks the side", () => {
  const telemetries = [
    telemetry("istio-system", "mesh-default", [{ providers: [{ name: "otel" }], randomSamplingPercentage: 10 }]),
    telemetry("shop", "shop", [{ randomSamplingPercentage: 50 }, { match: { mode: "CLIENT" }, randomSamplingPercentage: 100 }]),
  ];
  const server = tracingFor({ ...base, telemetries }).tracing;
  assert.deepEqual(server, {
    format: "otlp", collectorCluster: "outbound|4318||otel-collector.observability.svc.cluster.local",
    collectorAuthority: "otel-collector.observability.svc.cluster.local:4318", collectorPath: "/v1/traces", timeoutMs: 2000, samplingPercentage: 50,
  });
  assert.equal(tracingFor({ ...base, side: "client", telemetries }).tracing?.samplingPercentage, 100);
  assert.equal(tracingFor({ ...base, namespace: "other", telemetries }).tracing?.samplingPercentage, 10);
  const off = [telemetry("shop", "quiet", [{ disableSpanReporting: true }])];
  assert.equal(tracingFor({ ...base, telemetries: off }).tracing, undefined);
  assert.equal(tracingFor({ ...base, side: "client", namespace: "web", telemetries: off }).tracing?.format, "zipkin");
});

test("MeshConfig defaultConfig.tracing.sampling applies when no Telemetry sets a percentage", () => {
  assert.equal(tracingFor({ ...base, mesh: { ...MESH, defaultConfig: { tracing: { sampling: 2.5 } } } }).tracing?.samplingPercentage, 2.5);
});

test("Meltemi's override: disabled, another provider, another percentage, each winning over Istio's", () => {
  assert.deepEqual(tracingFor({ ...base, override: { disabled: true } }), { notes: [] });
  assert.equal(tracingFor({ ...base, override: { provider: "otel", samplingPercentage: 100 } }).tracing?.format, "otlp");
  assert.equal(tracingFor({ ...base, override: { samplingPercentage: 0 } }).tracing?.samplingPercentage, 0);
  const off = [telemetry("shop", "quiet", [{ disableSpanReporting: true }])];
  assert.equal(tracingFor({ ...base, telemetries: off, override: { provider: "zipkin" } }).tracing?.format, "zipkin", "an override provider turns it on again");
});

test("providers Meltemi cannot export to, unknown names and workload-scoped Telemetry are notes, not spans", () => {
  const grpc = tracingFor({ ...base, override: { provider: "otel-grpc" } });
  assert.equal(grpc.tracing, undefined);
  assert.match(grpc.notes[0]!, /OTLP over gRPC/);
  assert.match(tracingFor({ ...base, override: { provider: "dd" } }).notes[0]!, /datadog provider/);
  assert.match(tracingFor({ ...base, override: { provider: "nope" } }).notes[0]!, /not one of MeshConfig.extensionProviders/);
  const selected = tracingFor({ ...base, telemetries: [telemetry("shop", "one-app", [{ providers: [{ name: "otel" }] }], { selector: { matchLabels: { app: "a" } } })] });
  assert.equal(selected.tracing?.format, "zipkin", "the workload-scoped object is not read");
  assert.match(selected.notes[0]!, /selects workloads/);
});

test("parseMeshConfig reads the mesh YAML or the istio ConfigMap holding it", () => {
  const mesh = "defaultProviders:\n  tracing: [zipkin]\nextensionProviders:\n- name: zipkin\n  zipkin: {service: zipkin.istio-system.svc.cluster.local, port: 9411}\ndefaultConfig:\n  tracing:\n    sampling: 5\n";
  const expected = { extensionProviders: [{ name: "zipkin", zipkin: { service: "zipkin.istio-system.svc.cluster.local", port: 9411 } }], defaultProviders: { tracing: ["zipkin"] }, defaultConfig: { tracing: { sampling: 5 } } };
  assert.deepEqual(parseMeshConfig(mesh), expected);
  const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n${mesh.split("\n").map((l) => `    ${l}`).join("\n")}\n`;
  assert.deepEqual(parseMeshConfig(cm), expected);
  assert.throws(() => parseMeshConfig("extensionProviders: 3"), MeshConfigError);
  assert.throws(() => parseMeshConfig("kind: ConfigMap\ndata: {}"), MeshConfigError);
});

const svc = {
  apiVersion: "v1", kind: "Service", metadata: { name: "reviews", namespace: "shop" },
  spec: { clusterIP: "10.0.0.9", selector: { app: "reviews" }, ports: [{ name: "tcp-metaprotocol-dubbo", port: 20880, targetPort: 20880 }] },
};
const router = { apiVersion: "meltemi.dev/v1alpha1", kind: "RpcRouter", metadata: { name: "r", namespace: "shop" }, spec: { host: "reviews", clients: { namespaces: ["shop", "web"] } } };
const snap = (parts: Partial<Snapshot>): Snapshot => ({ ...emptySnapshot(), services: [svc] as never[], rpcRouters: [router] as never[], ...parts });

test("the translation writes the tracing section into the server plugin and each callers' namespace's EnvoyFilter", () => {
  const telemetries = [telemetry("web", "web", [{ randomSamplingPercentage: 100 }])] as never[];
  const result = translate(snap({ telemetries }), { ...TEST_OPTIONS, mesh: MESH });
  assertInvariants(result);
  type Tracing = { samplingPercentage?: number; serviceName?: string; collectorCluster: string };
  const configs = filterConfigsOf(result.objects as never[]).map(({ where, config }) => ({ where, t: (config as { tracing?: Tracing }).tracing }));
  assert.deepEqual(configs.map(({ where, t }) => [where, t === undefined ? undefined : [t.collectorCluster, t.samplingPercentage, t.serviceName]]), [
    ["WasmPlugin shop/meltemi-server-reviews-20880", ["outbound|9411||zipkin.istio-system.svc.cluster.local", undefined, "reviews.shop"]],
    ["EnvoyFilter shop/meltemi-client-reviews.shop-20880", ["outbound|9411||zipkin.istio-system.svc.cluster.local", undefined, undefined]],
    ["EnvoyFilter web/meltemi-client-reviews.shop-20880", ["outbound|9411||zipkin.istio-system.svc.cluster.local", 100, undefined]],
  ]);
  // Without a mesh config: no tracing section anywhere (the configurations are as before).
  const plain = translate(snap({}), TEST_OPTIONS);
  assert.ok(filterConfigsOf(plain.objects as never[]).every(({ config }) => (config as { tracing?: unknown }).tracing === undefined));
});

test("an RpcProtocol's tracing override applies to its ports; its notes are warnings on it", () => {
  const proto = (tracing: Record<string, unknown>) => ({ apiVersion: "meltemi.dev/v1alpha1", kind: "RpcProtocol", metadata: { name: "dubbo" }, spec: { codec: "dubbo", tracing } });
  const off = translate(snap({ rpcProtocols: [proto({ disabled: true })] as never[] }), { ...TEST_OPTIONS, mesh: MESH });
  assert.ok(filterConfigsOf(off.objects as never[]).every(({ config }) => (config as { tracing?: unknown }).tracing === undefined));
  const grpc = translate(snap({ rpcProtocols: [proto({ provider: "otel-grpc" })] as never[] }), { ...TEST_OPTIONS, mesh: MESH });
  const warnings = grpc.diagnostics.filter((d) => d.reason === "TracingNotApplied");
  assert.equal(warnings.length, 1, "reported once, not per port and side");
  assert.equal(warnings[0]!.object.kind, "RpcProtocol");
  assert.equal(warnings[0]!.severity, "warning");
});
