// `meltemi controller` against a real kube-apiserver with Istio's and Meltemi's CRDs, run as a child
// process with the ServiceAccount token of manifests/install/rbac.yaml (a verb missing there fails here).
// One API server for all steps (starting one costs ~6 s); each step uses its own namespace.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { KubeObject } from "../../controller/k8s/objects";
import { withKubeApiserver, type KubeApiserver } from "./apiserver";
import { repoRoot } from "./binaries";
import { Cluster, K } from "./cluster_objects";
import { CONTROLLER_NAMESPACE, controllerKubeconfig, startController, waitFor, waitReady, type ControllerProcess } from "./controller_process";
import { installCrds } from "./crds";

const HOST = (name: string, ns: string) => `${name}.${ns}.svc.cluster.local`;

function dubboService(ns: string, name: string, port = 20880): KubeObject {
  return {
    apiVersion: "v1", kind: "Service",
    metadata: { name, namespace: ns },
    spec: { selector: { app: name }, ports: [{ name: "tcp-metaprotocol-dubbo-api", port, targetPort: port }] },
  };
}

function router(ns: string, name: string, host: string, subsets: [string, number][], spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "meltemi.dev/v1alpha1", kind: "RpcRouter",
    metadata: { name, namespace: ns },
    spec: { host, routes: [{ name: "split", destinations: subsets.map(([subset, weight]) => ({ subset, weight })) }], ...spec },
  };
}

async function namespace(c: Cluster, name: string): Promise<string> {
  await c.create(K.namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name } });
  return name;
}

const ownerOf = (o: KubeObject) => o.metadata.annotations?.["meltemi.dev/owner"];

test("meltemi controller against a real kube-apiserver", { timeout: 600_000 }, async (t) => {
  await withKubeApiserver({}, async (kube: KubeApiserver) => {
    await kube.installIstioCrds();
    const admin = kube.kubeConfig();
    for (const f of fs.readdirSync(path.join(repoRoot, "manifests/crds"))) await installCrds(admin, path.join(repoRoot, "manifests/crds", f));
    const kubeconfig = await controllerKubeconfig(kube);
    const c = new Cluster(kube);
    const started: ControllerProcess[] = [];
    const start = async (identity: string) => {
      const p = await startController(kubeconfig, identity);
      started.push(p);
      return p;
    };
    let a = await start("replica-a");
    try {
      const readyBody = await waitReady(a);
      assert.match(readyBody, /leader/);

      await t.test("a Service and an RpcRouter: outputs appear, change and disappear; status follows", async () => {
        const ns = await namespace(c, "shop");
        const svc = await c.create(K.service, dubboService(ns, "orders"));
        const plugin = await waitFor("server WasmPlugin", async () => (await c.owned(K.wasmPlugin, ns))[0]);
        assert.equal(plugin.metadata.name, "meltemi-server-orders-20880");
        assert.equal(plugin.metadata.ownerReferences?.[0]?.uid, svc.metadata.uid, "owned by its Service");
        assert.equal(plugin.metadata.labels?.["app.kubernetes.io/managed-by"], "meltemi");

        await c.create(K.rpcRouter, router(ns, "orders", HOST("orders", ns), [["v1", 1]]));
        const ef = await waitFor("client EnvoyFilter", async () => (await c.owned(K.envoyFilter, ns))[0]);
        assert.equal(ownerOf(ef), `RpcRouter/${ns}/orders`);
        assert.match(JSON.stringify(ef.spec), /outbound\|20880\|v1\|orders\.shop\.svc\.cluster\.local/);
        // No DestinationRule defines v1 yet: accepted with a warning.
        const warned = await waitFor("Ready with warnings", async () => {
          const r = await c.ready(K.rpcRouter, ns, "orders");
          return r?.reason === "AcceptedWithWarnings" ? r : undefined;
        });
        assert.equal(warned.status, "True");
        assert.equal(warned.observedGeneration, 1);
        assert.match(warned.message, /subset "v1"/);
        assert.ok(warned.lastTransitionTime);

        await c.create(K.destinationRule, { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "orders", namespace: ns }, spec: { host: HOST("orders", ns), subsets: [{ name: "v1", labels: { v: "1" } }, { name: "v2", labels: { v: "2" } }] } });
        const accepted = await waitFor("Ready Accepted once the subset exists", async () => {
          const r = await c.ready(K.rpcRouter, ns, "orders");
          return r?.reason === "Accepted" ? r : undefined;
        });
        assert.equal(accepted.lastTransitionTime, warned.lastTransitionTime, "status stayed True: no transition");

        await c.patch(K.rpcRouter, ns, "orders", { spec: { routes: [{ name: "split", destinations: [{ subset: "v1", weight: 1 }, { subset: "v2", weight: 3 }] }] } });
        await waitFor("EnvoyFilter routes to v2", async () => {
          const [now] = await c.owned(K.envoyFilter, ns);
          return now && /outbound\|20880\|v2\|/.test(JSON.stringify(now.spec)) ? now : undefined;
        });
        await waitFor("observedGeneration 2", async () => ((await c.ready(K.rpcRouter, ns, "orders"))?.observedGeneration === 2 ? true : undefined));

        await c.delete(K.rpcRouter, ns, "orders");
        await waitFor("EnvoyFilter deleted", async () => ((await c.owned(K.envoyFilter, ns)).length === 0 ? true : undefined));
        assert.equal((await c.owned(K.wasmPlugin, ns)).length, 1, "the server side stays while the Service does");
        await c.delete(K.service, ns, "orders");
        await waitFor("WasmPlugin deleted", async () => ((await c.owned(K.wasmPlugin, ns)).length === 0 ? true : undefined));
      });
    } catch (err) {
      for (const p of started) console.error(`---- controller ${p.identity} log ----\n${p.logs.slice(-80).join("\n")}`);
      throw err;
    } finally {
      for (const p of started) await p.stop("SIGKILL");
    }
  });
});
