// `--traffic-extension auto` (the controller's default) against a real kube-apiserver: where the API
// server serves Istio's TrafficExtension (Istio 1.30+ installs its CRD) the controller emits
// TrafficExtensions; where it does not (the CRD removed, as on an older Istio) it emits WasmPlugins,
// and the outputs of the other kind are deleted, with no restart.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withKubeApiserver, type KubeApiserver } from "./apiserver";
import { Cluster, K } from "./cluster_objects";
import { controllerKubeconfig, startController, waitReady } from "./controller_process";
import { waitFor } from "../wait";

test("auto: TrafficExtension where the cluster serves it, WasmPlugin where it does not", { timeout: 300_000 }, async () => {
  await withKubeApiserver({}, async (kube: KubeApiserver) => {
    await kube.installIstioCrds();
    await kube.installMeltemiCrds();
    const c = new Cluster(kube);
    const ctl = await startController(await controllerKubeconfig(kube), "auto-a", ["--traffic-extension", "auto"]);
    try {
      await waitReady(ctl, /leader/);
      const ns = "shop";
      await c.create(K.namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
      await c.create(K.service, {
        apiVersion: "v1", kind: "Service", metadata: { name: "orders", namespace: ns },
        spec: { selector: { app: "orders" }, ports: [{ name: "tcp-metaprotocol-dubbo-api", port: 20880, targetPort: 20880 }] },
      });

      const te = await waitFor("a TrafficExtension for the server side", async () => (await c.owned(K.trafficExtension, ns))[0]);
      assert.deepEqual(await c.owned(K.wasmPlugin, ns), [], "no WasmPlugin where TrafficExtension is served");

      // The cluster stops serving TrafficExtension (its CRD deleted, as on an Istio before 1.30).
      await c.delete(K.crd, undefined, "trafficextensions.extensions.istio.io");
      const plugin = await waitFor("a WasmPlugin instead", async () => (await c.owned(K.wasmPlugin, ns))[0], 60_000);
      assert.equal(plugin.metadata.name, te.metadata.name, "the same object name, now as a WasmPlugin");
    } finally {
      await ctl.stop();
    }
  });
});
