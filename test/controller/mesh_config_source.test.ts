// The runtime's reading of Istio's MeshConfig ConfigMap (controller/runtime/mesh_config_source.ts)
// against a scripted API: what the snapshot gets, when a reconcile is due, and what a failed or bad
// read leaves in force. The translation of what it reads: test/controller/tracing.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { KubeError } from "../../controller/runtime/kube_http";
import { MeshConfigSource } from "../../controller/runtime/mesh_config_source";
import { emptySnapshot } from "../../controller/translate/snapshot";
import { translate } from "../../controller/translate/translate";
import { filterConfigsOf, TEST_OPTIONS } from "./support";

const MESH = "extensionProviders:\n- name: zipkin\n  zipkin: {service: zipkin.istio-system.svc.cluster.local, port: 9411}\ndefaultProviders:\n  tracing: [zipkin]\n";

function scripted() {
  const api = { answer: (): unknown => ({ data: { mesh: MESH } }), paths: [] as string[] };
  const http = {
    request: async <T>(method: string, path: string): Promise<T> => {
      api.paths.push(`${method} ${path}`);
      const a = api.answer();
      if (a instanceof Error) throw a;
      return a as T;
    },
  };
  const log = { warnings: [] as string[], warn(_o: unknown, msg: string) { this.warnings.push(msg); }, info() {} };
  return { api, http, log };
}

test("the ConfigMap's mesh key reaches the snapshot; a change is a reconcile, the same text is not", async () => {
  const { api, http, log } = scripted();
  const source = new MeshConfigSource(http as never, "istio-system", "istio", log as never);
  assert.equal(await source.refresh(), true);
  assert.deepEqual(api.paths, ["GET /api/v1/namespaces/istio-system/configmaps/istio"]);
  const snapshot = emptySnapshot();
  source.contribute(snapshot);
  assert.deepEqual(snapshot.meshConfig?.defaultProviders, { tracing: ["zipkin"] });
  assert.equal(await source.refresh(), false, "unchanged");

  const svc = { apiVersion: "v1", kind: "Service", metadata: { name: "reviews", namespace: "shop" }, spec: { clusterIP: "10.0.0.9", selector: { app: "reviews" }, ports: [{ name: "tcp-metaprotocol-dubbo", port: 20880, targetPort: 20880 }] } };
  const configs = filterConfigsOf(translate({ ...snapshot, services: [svc] as never[] }, TEST_OPTIONS).objects as never[]);
  assert.equal((configs[0]!.config as { tracing?: { collectorCluster: string } }).tracing?.collectorCluster, "outbound|9411||zipkin.istio-system.svc.cluster.local");

  api.answer = () => ({ data: { mesh: "defaultProviders:\n  tracing: []\n" } });
  assert.equal(await source.refresh(), true);
  const again = emptySnapshot();
  source.contribute(again);
  assert.deepEqual(again.meshConfig?.defaultProviders, { tracing: [] });
});

test("a failed read or a ConfigMap that is not a MeshConfig keeps the last one; a deleted one means none", async () => {
  const { api, http, log } = scripted();
  const source = new MeshConfigSource(http as never, "istio-system", "istio", log as never);
  await source.refresh();
  api.answer = () => new KubeError(403, "Forbidden", "forbidden");
  assert.equal(await source.refresh(), false);
  api.answer = () => ({ data: { mesh: "extensionProviders: 3" } });
  assert.equal(await source.refresh(), false);
  assert.equal(log.warnings.length, 2);
  let s = emptySnapshot();
  source.contribute(s);
  assert.ok(s.meshConfig?.extensionProviders, "the last good one");
  api.answer = () => new KubeError(404, "NotFound", "not found");
  assert.equal(await source.refresh(), true);
  s = emptySnapshot();
  source.contribute(s);
  assert.equal(s.meshConfig, undefined);
});
