// `meltemi controller` with a Slime `global` SmartLimiter on a real kube-apiserver: the service's
// WasmPlugin carries the global limit, and the rate limit service's ConfigMap, which `meltemi render`
// emits, is not written by the running controller: the SmartLimiter says so (Ready=False
// RateLimitConfigNotWritten) rather than reading Ready while its limit counts against no configuration.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import type { KubeObject } from "../../controller/k8s/objects";
import { withKubeApiserver } from "./apiserver";
import { repoRoot } from "./binaries";
import { Cluster, K } from "./cluster_objects";
import { controllerKubeconfig, startController, waitFor, waitReady } from "./controller_process";
import { installCrds } from "./crds";

const NS = "shop";
const SMART_LIMITER = { group: "microservice.slime.io", version: "v1alpha2", plural: "smartlimiters", namespaced: true };
const CONFIG_MAPS = { group: "", version: "v1", plural: "configmaps", namespaced: true };

test("a global SmartLimiter: the WasmPlugin's global limit; the ConfigMap not written, and said so", { timeout: 300_000 }, async () => {
  await withKubeApiserver({}, async (kube) => {
    await kube.installIstioCrds();
    await kube.installMeltemiCrds();
    await installCrds(kube.kubeConfig(), path.join(repoRoot, "manifests/slime/smartlimiters.microservice.slime.io.yaml"));
    const c = new Cluster(kube);
    await c.create(K.namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
    await c.create(K.service, { apiVersion: "v1", kind: "Service", metadata: { name: "orders", namespace: NS }, spec: { selector: { app: "orders" }, ports: [{ name: "tcp-metaprotocol-dubbo-api", port: 20880, targetPort: 20880 }] } } as KubeObject);
    await c.create(SMART_LIMITER, {
      apiVersion: "microservice.slime.io/v1alpha2", kind: "SmartLimiter", metadata: { name: "orders", namespace: NS },
      spec: { sets: { _base: { descriptor: [{ action: { fill_interval: { seconds: 60 }, quota: "100", strategy: "global" }, condition: "true", target: { port: 20880 } }] } } },
    });
    const ctl = await startController(await controllerKubeconfig(kube), "global");
    try {
      await waitReady(ctl);
      const limits = await waitFor("the WasmPlugin's global limit", async () => {
        const [wp] = await c.list(K.wasmPlugin, NS);
        return (wp?.spec as { pluginConfig?: { globalLimits?: { domain: string; entries: { key: string; value: string }[] }[] } } | undefined)?.pluginConfig?.globalLimits;
      });
      assert.equal(limits[0]!.domain, "slime");
      assert.match(limits[0]!.entries[0]!.value, /^Service\[orders\.shop\]-Id\[\d+\]$/);
      const ready = await waitFor("Ready=False RateLimitConfigNotWritten", async () => {
        const r = await c.ready(SMART_LIMITER, NS, "orders");
        return r?.reason === "RateLimitConfigNotWritten" ? r : undefined;
      });
      assert.equal(ready.status, "False");
      assert.match(ready.message, /meltemi render/);
      assert.deepEqual(await c.list(CONFIG_MAPS, "istio-system").then((l) => l.filter((o) => o.metadata.name === "rate-limit-config")), []);
    } finally {
      await ctl.stop();
    }
  });
});
