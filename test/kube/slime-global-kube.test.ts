// `meltemi controller` with a Slime `global` SmartLimiter on a real kube-apiserver, as the controller's
// ServiceAccount (manifests/install/rbac.yaml): the service's WasmPlugin carries the global limit and the
// controller writes the rate limit service's ConfigMap (istio-system/rate-limit-config, key config.yaml)
// from the same SmartLimiter. The SmartLimiter reads Ready=True once it is written; an edit rewrites it,
// a change made by hand is put back, a second global SmartLimiter adds to it, the last one's deletion
// (not the first's) deletes it, and a user's
// ConfigMap of that name is never touched (Ready=False RateLimitConfigConflict until it goes), and a
// failed write reads Ready=False RateLimitConfigNotWritten until a retry succeeds. End to end: the real
// rate limit service (test/ratelimit/) reads the ConfigMap's data mounted the kubelet's way (its
// `..data` swap on the edit) and answers the WasmPlugin's descriptor with the SmartLimiter's quota.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { parse } from "yaml";
import type { KubeObject } from "../../controller/k8s/objects";
import { withKubeApiserver } from "./apiserver";
import { repoRoot } from "./binaries";
import { Cluster, K } from "./cluster_objects";
import { applyYamlFile, controllerKubeconfig, startController, waitReady } from "./controller_process";
import { waitFor } from "../wait";
import { installCrds } from "./crds";
import { Redis } from "../ratelimit/redis";
import { RateLimitService } from "../ratelimit/service";

const NS = "shop";
const SMART_LIMITER = { group: "microservice.slime.io", version: "v1alpha2", plural: "smartlimiters", namespaced: true };
const CONFIG_MAPS = { group: "", version: "v1", plural: "configmaps", namespaced: true };
const CM_NS = "istio-system";
const CM_NAME = "rate-limit-config";
const MANAGED = "app.kubernetes.io/managed-by";
const ROLE_BINDINGS = { group: "rbac.authorization.k8s.io", version: "v1", plural: "rolebindings", namespaced: true };
/** The Role and RoleBinding of manifests/install/rbac.yaml for that ConfigMap. */
const RBAC_NAME = "meltemi-controller-rate-limit-config";

interface RlsConfig { domain: string; descriptors: { key: string; value: string; rate_limit: { unit: string; requests_per_unit: number } }[] }

const smartLimiter = (quota: string, name = "orders"): KubeObject => ({
  apiVersion: "microservice.slime.io/v1alpha2", kind: "SmartLimiter", metadata: { name, namespace: NS },
  spec: { sets: { _base: { descriptor: [{ action: { fill_interval: { seconds: 60 }, quota, strategy: "global" }, condition: "true", target: { port: 20880 } }] } } },
});

const rlsConfig = (cm: KubeObject): RlsConfig => parse(cm.data?.["config.yaml"] ?? "") as RlsConfig;

test("a global SmartLimiter: the WasmPlugin's global limit and the rate limit service's ConfigMap, written, kept, deleted; a user's ConfigMap left alone", { timeout: 300_000 }, async () => {
  await withKubeApiserver({}, async (kube) => {
    await kube.installIstioCrds();
    await kube.installMeltemiCrds();
    await installCrds(kube.kubeConfig(), path.join(repoRoot, "manifests/slime/smartlimiters.microservice.slime.io.yaml"));
    const c = new Cluster(kube);
    await c.create(K.namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
    for (const name of ["orders", "payments"]) {
      await c.create(K.service, { apiVersion: "v1", kind: "Service", metadata: { name, namespace: NS }, spec: { selector: { app: name }, ports: [{ name: "tcp-metaprotocol-dubbo-api", port: 20880, targetPort: 20880 }] } } as KubeObject);
    }
    await c.create(SMART_LIMITER, smartLimiter("100"));
    const kubeconfig = await controllerKubeconfig(kube); // also creates istio-system
    let ctl = await startController(kubeconfig, "global");
    let redis: Redis | undefined;
    let rls: RateLimitService | undefined;
    const readyIs = (status: string, reason?: RegExp) => waitFor(`SmartLimiter Ready=${status}${reason ? ` ${reason.source}` : ""}`, async () => {
      const r = await c.ready(SMART_LIMITER, NS, "orders");
      return r?.status === status && (!reason || reason.test(r.reason)) ? r : undefined;
    });
    try {
      await waitReady(ctl);
      const globalLimits = async () => {
        const [wp] = await c.list(K.wasmPlugin, NS);
        return (wp?.spec as { pluginConfig?: { globalLimits?: { domain: string; entries: { key: string; value: string }[] }[] } } | undefined)?.pluginConfig?.globalLimits;
      };
      const limits = await waitFor("the WasmPlugin's global limit", globalLimits);
      assert.equal(limits[0]!.domain, "slime");
      const value = limits[0]!.entries[0]!.value;
      assert.match(value, /^Service\[orders\.shop\]-Id\[\d+\]$/);

      // Written: the same descriptor the filter sends, with the SmartLimiter's quota per minute.
      const cm = await waitFor("the ConfigMap", () => c.get(CONFIG_MAPS, CM_NS, CM_NAME));
      assert.equal(cm.metadata.labels?.[MANAGED], "meltemi");
      assert.equal(cm.metadata.ownerReferences, undefined, "no ownerReference: it is made from every global SmartLimiter");
      assert.deepEqual(rlsConfig(cm), { domain: "slime", descriptors: [{ key: "generic_key", value, rate_limit: { unit: "minute", requests_per_unit: 100 } }] });
      const ready = await readyIs("True");

      // The service with that data mounted as the kubelet mounts key config.yaml: the filter's
      // descriptor gets the SmartLimiter's limit (hits 0: only asks).
      redis = await Redis.start();
      rls = await RateLimitService.start({ redisUrl: redis.url, domain: "slime", descriptors: [], configYaml: cm.data!["config.yaml"], configFile: "config.yaml", configLayout: "configmap", ignoreDotFiles: true });
      const limitOf = async (v: string) => (await rls!.shouldRateLimit("slime", [{ entries: [["generic_key", v]], hitsAddend: 0 }])).statuses[0]?.currentLimit;
      assert.deepEqual(await limitOf(value), { requestsPerUnit: 100, unit: "MINUTE" });
      console.log(`# written: ${CM_NS}/${CM_NAME} (${rlsConfig(cm).descriptors.length} descriptor); SmartLimiter Ready=True ${ready.reason} (${ready.message})`);

      // An edit of the SmartLimiter rewrites it.
      await c.patch(SMART_LIMITER, NS, "orders", { spec: smartLimiter("50").spec });
      const edited = await waitFor("the ConfigMap with the new quota", async () => {
        const now = await c.get(CONFIG_MAPS, CM_NS, CM_NAME);
        return now && rlsConfig(now).descriptors[0]?.rate_limit.requests_per_unit === 50 ? now : undefined;
      });
      assert.equal(rlsConfig(edited).descriptors.length, 1);
      // Slime's Id hashes the quota too: the edit gives a new descriptor value, the same on both sides.
      const newValue = rlsConfig(edited).descriptors[0]!.value;
      assert.notEqual(newValue, value);
      await waitFor("the WasmPlugin's new descriptor", async () => ((await globalLimits())?.[0]?.entries[0]?.value === newValue ? true : undefined));
      rls.updateConfigYaml(edited.data!["config.yaml"]!);
      const newLimit = await waitFor("the service's new limit", async () => {
        const l = await limitOf(newValue);
        return l?.requestsPerUnit === 50 ? l : undefined;
      }, 15_000);
      assert.equal(await limitOf(value), undefined, "the old descriptor is gone from the service's config");
      console.log(`# rate limit service on the mounted ConfigMap: ${value} 100/MINUTE; after the edit ${newValue} ${newLimit.requestsPerUnit}/${newLimit.unit}`);

      // Its data changed by hand (labels and the desired-hash annotation kept) is put back: the
      // up-to-date check compares data, not only the hash.
      await c.patch(CONFIG_MAPS, CM_NS, CM_NAME, { data: { "config.yaml": "domain: slime\ndescriptors: []\n" } });
      await waitFor("the ConfigMap's data restored", async () => {
        const now = await c.get(CONFIG_MAPS, CM_NS, CM_NAME);
        return now && rlsConfig(now).descriptors[0]?.rate_limit.requests_per_unit === 50 ? now : undefined;
      });

      // Made from every global SmartLimiter: a second one adds its descriptor; deleting the first keeps
      // the ConfigMap with the second's; deleting the last deletes it.
      await c.create(SMART_LIMITER, smartLimiter("7", "payments"));
      const both = await waitFor("the ConfigMap with both SmartLimiters' descriptors", async () => {
        const now = await c.get(CONFIG_MAPS, CM_NS, CM_NAME);
        return now && rlsConfig(now).descriptors.length === 2 ? now : undefined;
      });
      assert.equal(both.metadata.annotations?.["meltemi.dev/sources"], "SmartLimiter/shop/orders,SmartLimiter/shop/payments");
      await c.delete(SMART_LIMITER, NS, "orders");
      const left = await waitFor("the ConfigMap with the payments descriptor only", async () => {
        const now = await c.get(CONFIG_MAPS, CM_NS, CM_NAME);
        return now && rlsConfig(now).descriptors.length === 1 ? now : undefined;
      });
      assert.match(rlsConfig(left).descriptors[0]!.value, /^Service\[payments\.shop\]/);
      assert.equal(rlsConfig(left).descriptors[0]!.rate_limit.requests_per_unit, 7);
      await c.delete(SMART_LIMITER, NS, "payments");
      await waitFor("the ConfigMap deleted with the last global SmartLimiter", async () => ((await c.get(CONFIG_MAPS, CM_NS, CM_NAME)) ? undefined : true));

      // A user's ConfigMap of that name (no managed-by label): never changed, and the SmartLimiter says so.
      const userData = { "config.yaml": "domain: users-own\ndescriptors: []\n" };
      await c.create(CONFIG_MAPS, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: CM_NAME, namespace: CM_NS }, data: userData });
      await c.create(SMART_LIMITER, smartLimiter("100"));
      const conflict = await readyIs("False", /^RateLimitConfigConflict$/);
      assert.match(conflict.message, /not managed by Meltemi/);
      const untouched = await c.get(CONFIG_MAPS, CM_NS, CM_NAME);
      assert.deepEqual(untouched?.data, userData);
      assert.equal(untouched?.metadata.labels?.[MANAGED], undefined);
      console.log(`# user's ConfigMap kept; SmartLimiter Ready=False ${conflict.reason}: ${conflict.message}`);

      // The user's ConfigMap gone: the controller writes its own, and the SmartLimiter is Ready again.
      await c.delete(CONFIG_MAPS, CM_NS, CM_NAME);
      const mine = await waitFor("the controller's ConfigMap after the user's", async () => {
        const now = await c.get(CONFIG_MAPS, CM_NS, CM_NAME);
        return now?.metadata.labels?.[MANAGED] === "meltemi" ? now : undefined;
      });
      assert.equal(rlsConfig(mine).descriptors[0]?.rate_limit.requests_per_unit, 100);
      await readyIs("True");

      // A write that fails (here: the RoleBinding of manifests/install/rbac.yaml missing, from the
      // controller's start: its watch of the ConfigMap is Forbidden too, and must not hold up the rest)
      // reads Ready=False RateLimitConfigNotWritten with the API server's answer, until a retry succeeds.
      await c.delete(SMART_LIMITER, NS, "orders");
      await waitFor("the ConfigMap deleted again", async () => ((await c.get(CONFIG_MAPS, CM_NS, CM_NAME)) ? undefined : true));
      await ctl.stop();
      await c.delete(ROLE_BINDINGS, CM_NS, RBAC_NAME);
      ctl = await startController(kubeconfig, "global-2");
      await waitReady(ctl);
      await c.create(SMART_LIMITER, smartLimiter("100"));
      const failed = await readyIs("False", /^RateLimitConfigNotWritten$/);
      assert.match(failed.message, /forbidden/);
      console.log(`# without its RoleBinding: SmartLimiter Ready=False ${failed.reason}`);
      await applyYamlFile(kube.kubeConfig(), path.join(repoRoot, "manifests/install/rbac.yaml"));
      await readyIs("True");
      assert.equal((await c.get(CONFIG_MAPS, CM_NS, CM_NAME))?.metadata.labels?.[MANAGED], "meltemi");
    } finally {
      await ctl.stop();
      rls?.cleanup();
      redis?.cleanup();
    }
  });
});
