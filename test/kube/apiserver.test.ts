// Smoke test of the kube harness: a real kube-apiserver (+ etcd) built by scripts/provision/kube.sh,
// Istio's CRDs installed, Istio objects stored, validated, authorized, and still there after a restart.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AuthenticationV1Api,
  CoreV1Api,
  KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
} from "@kubernetes/client-node";
import { withKubeApiserver } from "./apiserver";
import { describeError } from "./crds";

const ns = "meltemi-smoke";
const fieldManager = "meltemi-smoke-test";

interface IstioObject extends KubernetesObject {
  spec: Record<string, unknown>;
}

const envoyFilter: IstioObject = {
  apiVersion: "networking.istio.io/v1alpha3",
  kind: "EnvoyFilter",
  metadata: { name: "meltemi-thrift", namespace: ns },
  spec: {
    workloadSelector: { labels: { app: "thrift-echo" } },
    configPatches: [{
      applyTo: "NETWORK_FILTER",
      match: { context: "SIDECAR_INBOUND", listener: { filterChain: { filter: { name: "envoy.filters.network.tcp_proxy" } } } },
      patch: {
        operation: "INSERT_BEFORE",
        value: {
          name: "meltemi",
          typed_config: {
            "@type": "type.googleapis.com/envoy.extensions.filters.network.wasm.v3.Wasm",
            config: { root_id: "meltemi", configuration: { "@type": "type.googleapis.com/google.protobuf.StringValue", value: "{\"version\":1}" } },
          },
        },
      },
    }],
  },
};

const wasmPlugin: IstioObject = {
  apiVersion: "extensions.istio.io/v1alpha1",
  kind: "WasmPlugin",
  metadata: { name: "meltemi", namespace: ns },
  spec: {
    selector: { matchLabels: { app: "thrift-echo" } },
    url: "oci://registry.invalid/meltemi:0.1.0",
    phase: "AUTHN",
    priority: 10,
    type: "NETWORK",
    pluginConfig: { version: 1, name: "smoke" },
  },
};

async function expectHttpError(what: string, call: Promise<unknown>, code: number, pattern?: RegExp): Promise<void> {
  try {
    await call;
  } catch (err) {
    const e = err as { code?: number };
    assert.equal(e.code, code, `${what}: expected HTTP ${code}, got ${describeError(err)}`);
    if (pattern) assert.match(describeError(err), pattern, what);
    return;
  }
  assert.fail(`${what}: expected HTTP ${code}, but the call succeeded`);
}

test("kube-apiserver with Istio CRDs stores, validates and authorizes Istio objects, and keeps them across a restart", async (t) => {
  await withKubeApiserver({ users: [{ name: "no-rights", groups: [] }] }, async (kube) => {
    const kc = kube.kubeConfig();
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const core = kc.makeApiClient(CoreV1Api);
    // Subtests share the apiserver; a failing one prints its logs (t.test does not throw to us).
    const step = (name: string, fn: () => Promise<void>) => t.test(name, async () => {
      try {
        await fn();
      } catch (err) {
        console.error(kube.logs());
        throw err;
      }
    });

    await step("Istio's CRDs install and are served", async () => {
      const names = await kube.installIstioCrds();
      assert.ok(names.includes("envoyfilters.networking.istio.io"), names.join(", "));
      assert.ok(names.includes("wasmplugins.extensions.istio.io"), names.join(", "));
      // Installing twice is harmless (server-side apply).
      assert.deepEqual(await kube.installIstioCrds(), names);
    });

    await step("an EnvoyFilter and a WasmPlugin are created and read back unchanged", async () => {
      await core.createNamespace({ body: { metadata: { name: ns } } });
      for (const obj of [envoyFilter, wasmPlugin]) {
        await objects.create(obj, undefined, undefined, fieldManager);
        const read = await objects.read<IstioObject>({ apiVersion: obj.apiVersion!, kind: obj.kind!, metadata: { name: obj.metadata!.name!, namespace: ns } });
        assert.deepEqual(read.spec, obj.spec, `${obj.kind} spec as stored`);
        assert.ok(read.metadata?.uid && read.metadata.resourceVersion);
      }
    });

    await step("a server-side dry-run apply returns the change and stores nothing", async () => {
      const changed = { ...wasmPlugin, spec: { ...wasmPlugin.spec, priority: 20 } };
      const dry = await objects.patch<IstioObject>(changed, undefined, "All", fieldManager, true, PatchStrategy.ServerSideApply);
      assert.equal(dry.spec.priority, 20);
      const stored = await objects.read<IstioObject>({ apiVersion: wasmPlugin.apiVersion!, kind: "WasmPlugin", metadata: { name: "meltemi", namespace: ns } });
      assert.equal(stored.spec.priority, 10);
    });

    await step("the CRDs' schema and CEL rules are enforced", async () => {
      const badUrl = { ...wasmPlugin, metadata: { name: "bad-url", namespace: ns }, spec: { ...wasmPlugin.spec, url: "ftp://example.invalid/x.wasm" } };
      await expectHttpError("WasmPlugin with an ftp:// url", objects.create(badUrl, undefined, "All"), 422, /url must have schema one of/);
      const badPhase = { ...wasmPlugin, metadata: { name: "bad-phase", namespace: ns }, spec: { ...wasmPlugin.spec, phase: "NOT_A_PHASE" } };
      await expectHttpError("WasmPlugin with an unknown phase", objects.create(badPhase, undefined, "All"), 422, /phase/);
    });

    await step("RBAC decides: a user without bindings is forbidden until a RoleBinding grants access", async () => {
      const asNobody = KubernetesObjectApi.makeApiClient(kube.kubeConfig(kube.tokens.get("no-rights")!));
      const list = () => asNobody.list("extensions.istio.io/v1alpha1", "WasmPlugin", ns);
      await expectHttpError("listing WasmPlugins without rights", list(), 403);

      const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
      await rbac.createNamespacedRole({ namespace: ns, body: {
        metadata: { name: "wasmplugin-reader" },
        rules: [{ apiGroups: ["extensions.istio.io"], resources: ["wasmplugins"], verbs: ["get", "list"] }],
      } });
      await rbac.createNamespacedRoleBinding({ namespace: ns, body: {
        metadata: { name: "wasmplugin-reader" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "wasmplugin-reader" },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "no-rights" }],
      } });
      // The RBAC authorizer reads roles from an informer cache: the grant shows after a short delay.
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          const got = await list();
          assert.deepEqual(got.items.map((i) => i.metadata?.name), ["meltemi"]);
          break;
        } catch (err) {
          if ((err as { code?: number }).code !== 403 || Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    });

    await step("ServiceAccount tokens are issued and accepted (the signing keys work)", async () => {
      await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: "controller" } } });
      const tr = await core.createNamespacedServiceAccountToken({ namespace: ns, name: "controller", body: { spec: { audiences: [] } } });
      const token = tr.status?.token;
      assert.ok(token, "TokenRequest returned a token");
      const review = await kube.kubeConfig(token).makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
      assert.equal(review.status?.userInfo?.username, `system:serviceaccount:${ns}:controller`);
    });

    await step("after a kube-apiserver restart the objects are still there", async () => {
      const before = await objects.read<IstioObject>({ apiVersion: envoyFilter.apiVersion!, kind: "EnvoyFilter", metadata: { name: "meltemi-thrift", namespace: ns } });
      await kube.restartApiserver();
      assert.ok(kube.apiserverRunning);
      // The same KubeConfig and client keep working: same address, same serving certificate.
      for (const obj of [envoyFilter, wasmPlugin]) {
        const read = await objects.read<IstioObject>({ apiVersion: obj.apiVersion!, kind: obj.kind!, metadata: { name: obj.metadata!.name!, namespace: ns } });
        assert.deepEqual(read.spec, obj.spec, `${obj.kind} spec after restart`);
      }
      const after = await objects.read<IstioObject>({ apiVersion: envoyFilter.apiVersion!, kind: "EnvoyFilter", metadata: { name: "meltemi-thrift", namespace: ns } });
      assert.equal(after.metadata?.resourceVersion, before.metadata?.resourceVersion);
      assert.equal(after.metadata?.uid, before.metadata?.uid);
    });
  });
});
