// What a MetaRouter's status says on a real kube-apiserver (Aeraki's CRDs keep unknown spec fields, as
// Aeraki's own do for status): a misspelled field refuses the object and the last good routing stays;
// what Meltemi cannot put in force (a globalRateLimit whose rate limit service has no gRPC port) is
// Ready=False with its reason while the routes apply.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import type { KubeObject } from "../../controller/k8s/objects";
import { withKubeApiserver, type KubeApiserver } from "./apiserver";
import { repoRoot } from "./binaries";
import { Cluster, K } from "./cluster_objects";
import { controllerKubeconfig, startController, waitReady, type ControllerProcess } from "./controller_process";
import { waitFor } from "../wait";
import { installCrds } from "./crds";

const NS = "shop";
const HOST = `reviews.${NS}.svc.cluster.local`;
const routeTo = (subset: string, extra: Record<string, unknown> = {}) => [{ name: "r", route: [{ destination: { host: HOST, subset } }], ...extra }];

test("MetaRouter status on a real kube-apiserver: refused keeps the last good routing, degraded is not Ready", { timeout: 300_000 }, async () => {
  await withKubeApiserver({}, async (kube: KubeApiserver) => {
    await kube.installIstioCrds();
    await kube.installMeltemiCrds();
    await installCrds(kube.kubeConfig(), path.join(repoRoot, "test/kube/testdata/aeraki-crds.yaml"));
    const c = new Cluster(kube);
    let controller: ControllerProcess | undefined;
    try {
      controller = await startController(await controllerKubeconfig(kube), "strict");
      await waitReady(controller, /leader/);
      await c.create(K.namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
      await c.create(K.service, { apiVersion: "v1", kind: "Service", metadata: { name: "reviews", namespace: NS }, spec: { selector: { app: "reviews" }, ports: [{ name: "tcp-metaprotocol-dubbo-api", port: 20880, targetPort: 20880 }] } } as KubeObject);
      await c.create(K.metaRouter, { apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "MetaRouter", metadata: { name: "reviews", namespace: NS }, spec: { hosts: [HOST], exportTo: ["."], routes: routeTo("v1") } } as KubeObject);
      const routesTo = (subset: string) => async () => {
        const [ef] = await c.owned(K.envoyFilter, NS);
        return ef && JSON.stringify(ef.spec).includes(`outbound|20880|${subset}|`) ? ef : undefined;
      };
      await waitFor("routing to v1", routesTo("v1"));

      // `mach:` for `match:`, with the destination changed too: refused, the v1 routing stays.
      await c.patch(K.metaRouter, NS, "reviews", { spec: { routes: routeTo("v2", { mach: { attributes: { method: { exact: "sayHello" } } } }) } });
      const refused = await waitFor("Ready=False UnknownField", async () => {
        const r = await c.ready(K.metaRouter, NS, "reviews");
        return r?.reason === "UnknownField" ? r : undefined;
      });
      assert.equal(refused.status, "False");
      assert.equal(refused.observedGeneration, 2);
      assert.match(refused.message, /spec\.routes\[0\]\.mach/);
      // Another reconcile (a Service change) must not drop the last good routing either.
      await c.create(K.service, { apiVersion: "v1", kind: "Service", metadata: { name: "other", namespace: NS }, spec: { selector: { app: "other" }, ports: [{ name: "tcp-metaprotocol-dubbo", port: 20880, targetPort: 20880 }] } } as KubeObject);
      await waitFor("the other service's plugin", async () => ((await c.owned(K.wasmPlugin, NS)).length === 2 ? true : undefined));
      assert.ok(await routesTo("v1")(), "the last good routing (v1) is kept while the MetaRouter is refused");

      // Fixed, with a globalRateLimit whose rate limit service's port is http- (HTTP/1.1 in Istio, so no
      // answer to gRPC, and no patch: a tcp- port would get HTTP/2 from the controller): the routes apply
      // (v2), Ready=False names what is not in force.
      await c.create(K.service, { apiVersion: "v1", kind: "Service", metadata: { name: "rls", namespace: NS }, spec: { selector: { app: "rls" }, ports: [{ name: "http-rls", port: 8081, targetPort: 8081 }] } } as KubeObject);
      await c.patch(K.metaRouter, NS, "reviews", {
        spec: { routes: routeTo("v2"), globalRateLimit: { domain: "d", rateLimitService: `outbound|8081||rls.${NS}.svc.cluster.local`, match: { attributes: { method: { exact: "a" } } }, descriptors: [{ property: "method", descriptorKey: "method" }] } },
      });
      await waitFor("routing to v2", routesTo("v2"));
      const degraded = await waitFor("Ready=False RateLimitServiceNotGrpc", async () => {
        const r = await c.ready(K.metaRouter, NS, "reviews");
        return r?.reason === "RateLimitServiceNotGrpc" ? r : undefined;
      });
      assert.equal(degraded.status, "False");
      assert.match(degraded.message, /not \(all\) in force/);
    } catch (err) {
      if (controller) console.error(`---- controller log ----\n${controller.logs.slice(-80).join("\n")}`);
      throw err;
    } finally {
      await controller?.stop("SIGKILL");
    }
  });
});
