// `meltemi controller` against a real kube-apiserver with Istio's and Meltemi's CRDs, run as a child
// process with the ServiceAccount token of manifests/install/rbac.yaml (a verb missing there fails here).
// One API server for all steps (starting one costs ~6 s); each step uses its own namespace.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import type { KubeObject } from "../../controller/k8s/objects";
import { withKubeApiserver, type KubeApiserver } from "./apiserver";
import { repoRoot } from "./binaries";
import { Cluster, K } from "./cluster_objects";
import { CONTROLLER_NAMESPACE, controllerKubeconfig, startController, waitReady, type ControllerProcess } from "./controller_process";
import { waitFor } from "../wait";
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
    await kube.installMeltemiCrds();
    const kubeconfig = await controllerKubeconfig(kube);
    const c = new Cluster(kube);
    const started: ControllerProcess[] = [];
    const start = async (identity: string) => {
      // FAIL_OPEN where no policy applies, so that a policy's arrival shows as the switch to FAIL_RELOAD.
      const p = await startController(kubeconfig, identity, ["--fail-strategy", "FAIL_OPEN"]);
      started.push(p);
      return p;
    };
    let a = await start("replica-a");
    try {
      // Ready as leader once it holds the Lease and has reconciled (standby is ready too, earlier).
      await waitReady(a, /leader/);
      const healthz = await a.get("/healthz");
      assert.equal(healthz.status, 200, `/healthz: ${healthz.body}`);

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

      await t.test("invalid input: the schema rejects it, or status says why and the last good outputs stay", async () => {
        const ns = await namespace(c, "invalid");
        await assert.rejects(c.create(K.rpcRouter, router(ns, "bad", HOST("x", ns), [["v1", 1]], { routingMode: "sideways" })), (err: Error & { code?: number }) => err.code === 422 && /routingMode/.test(err.message));
        await c.create(K.service, dubboService(ns, "pay"));
        await c.create(K.rpcRouter, router(ns, "pay", HOST("pay", ns), [["v1", 1]]));
        const ef = await waitFor("EnvoyFilter of the valid router", async () => (await c.owned(K.envoyFilter, ns))[0]);
        await c.patch(K.rpcRouter, ns, "pay", { spec: { host: HOST("nowhere", ns) } });
        const failed = await waitFor("Ready=False", async () => {
          const r = await c.ready(K.rpcRouter, ns, "pay");
          return r?.status === "False" ? r : undefined;
        });
        assert.equal(failed.reason, "NoService");
        assert.match(failed.message, /nowhere/);
        assert.equal(failed.observedGeneration, 2);
        const kept = await c.owned(K.envoyFilter, ns);
        assert.deepEqual(kept.map((o) => [o.metadata.name, o.metadata.uid]), [[ef.metadata.name, ef.metadata.uid]], "the last good EnvoyFilter stays while the router is invalid");
        await c.delete(K.rpcRouter, ns, "pay");
        await waitFor("EnvoyFilter deleted with its router", async () => ((await c.owned(K.envoyFilter, ns)).length === 0 ? true : undefined));
      });

      await t.test("a user's objects are never changed or deleted, even with the name Meltemi would use", async () => {
        const ns = await namespace(c, "users");
        const userFilter = await c.create(K.envoyFilter, { apiVersion: "networking.istio.io/v1alpha3", kind: "EnvoyFilter", metadata: { name: "my-filter", namespace: ns }, spec: { workloadSelector: { labels: { app: "mine" } }, configPatches: [] } });
        const userPlugin = await c.create(K.wasmPlugin, { apiVersion: "extensions.istio.io/v1alpha1", kind: "WasmPlugin", metadata: { name: "meltemi-server-ledger-20880", namespace: ns }, spec: { selector: { matchLabels: { app: "ledger" } }, url: "oci://user.example/own-plugin:1", type: "NETWORK" } });
        await c.create(K.service, dubboService(ns, "ledger"));
        const events = await waitFor("NameTaken event on the Service", async () => {
          const list = (await c.list(K.event, ns)).filter((e) => (e as unknown as { reason: string }).reason === "NameTaken");
          return list.length > 0 ? list : undefined;
        });
        assert.equal((events[0] as unknown as { involvedObject: { name: string } }).involvedObject.name, "ledger");
        const pluginNow = (await c.get(K.wasmPlugin, ns, "meltemi-server-ledger-20880"))!;
        assert.equal(pluginNow.metadata.resourceVersion, userPlugin.metadata.resourceVersion, "the user's WasmPlugin is untouched");
        assert.equal((pluginNow.spec as { url: string }).url, "oci://user.example/own-plugin:1");
        const filterNow = (await c.get(K.envoyFilter, ns, "my-filter"))!;
        assert.equal(filterNow.metadata.resourceVersion, userFilter.metadata.resourceVersion, "the user's EnvoyFilter is untouched");
        // Once the name is free, Meltemi writes its own.
        await c.delete(K.wasmPlugin, ns, "meltemi-server-ledger-20880");
        const mine = await waitFor("Meltemi's own WasmPlugin", async () => (await c.owned(K.wasmPlugin, ns))[0]);
        assert.equal(mine.metadata.name, "meltemi-server-ledger-20880");
        assert.ok(await c.get(K.envoyFilter, ns, "my-filter"), "still there after more reconciles");
      });

      await t.test("Aeraki CRDs installed later are picked up; what Meltemi cannot honour goes to status or events", async () => {
        const ns = await namespace(c, "aeraki");
        await c.create(K.service, dubboService(ns, "demo"));
        await installCrds(admin, path.join(repoRoot, "test/kube/testdata/aeraki-crds.yaml"));
        await c.create(K.metaRouter, {
          apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "MetaRouter", metadata: { name: "demo", namespace: ns },
          spec: {
            hosts: [HOST("demo", ns)],
            routes: [{ name: "v1", route: [{ destination: { host: HOST("demo", ns), subset: "v1" } }], mirror: { host: HOST("demo", ns), subset: "v2" }, mirrorPercentage: { value: 10 } }],
          },
        });
        // Aeraki's scope: a MetaRouter routes every sidecar's calls, so its EnvoyFilter is in the root namespace.
        const root = "istio-system"; // created with the controller's RBAC (controllerKubeconfig)
        const ef = await waitFor("EnvoyFilter of the MetaRouter in the root namespace", async () => (await c.owned(K.envoyFilter, root))[0]);
        assert.equal(ownerOf(ef), `MetaRouter/${ns}/demo`);
        assert.deepEqual(await c.owned(K.envoyFilter, ns), [], "nothing in the MetaRouter's own namespace");
        const r = await waitFor("MetaRouter status", () => c.ready(K.metaRouter, ns, "demo"));
        // dubbo_proxy cannot mirror: the refusal is in the status (a warning, or Ready=False where
        // features not in force degrade the object), never a plain "Accepted".
        assert.notEqual(r.reason, "Accepted");
        assert.match(r.message, /mirror/i);

        await c.create(K.dubboAuthorizationPolicy, {
          apiVersion: "dubbo.aeraki.io/v1alpha1", kind: "DubboAuthorizationPolicy", metadata: { name: "deny-hello", namespace: ns },
          spec: { action: "DENY", rules: [{ to: [{ operation: { methods: ["sayHello"] } }] }] },
        });
        const plugin = await waitFor("server plugin enforcing the policy", async () => {
          const [p] = await c.owned(K.wasmPlugin, ns);
          return p && (p.spec as { failStrategy?: string }).failStrategy === "FAIL_RELOAD" ? p : undefined;
        });
        assert.match(JSON.stringify(plugin.spec), /sayHello/);
        assert.equal((await waitFor("policy status", () => c.ready(K.dubboAuthorizationPolicy, ns, "deny-hello"))).status, "True");

        // A Service diagnostic has no status to go to: an Event on the Service.
        await c.create(K.service, { apiVersion: "v1", kind: "Service", metadata: { name: "named", namespace: ns }, spec: { selector: { app: "named" }, ports: [{ name: "tcp-metaprotocol-dubbo", port: 20880, targetPort: "dubbo" }] } });
        await waitFor("NamedTargetPort event", async () => (await c.list(K.event, ns)).find((e) => (e as unknown as { reason: string; involvedObject: { name: string } }).reason === "NamedTargetPort"));
      });

      await t.test("ServiceEntries and protocols: a cluster-scoped RpcProtocol, an Aeraki ApplicationProtocol", async () => {
        const ns = await namespace(c, "mesh-external");
        await c.create(K.rpcProtocol, { apiVersion: "meltemi.dev/v1alpha1", kind: "RpcProtocol", metadata: { name: "legacythrift" }, spec: { codec: "thrift", routingMode: "perConnection" } });
        await c.create(K.applicationProtocol, { apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "ApplicationProtocol", metadata: { name: "brpc", namespace: ns }, spec: { protocol: "brpc", codec: "aeraki.meta_protocol.codec.brpc" } });
        const se = await c.create(K.serviceEntry, {
          apiVersion: "networking.istio.io/v1", kind: "ServiceEntry", metadata: { name: "ledger", namespace: ns },
          spec: { hosts: ["ledger.example.internal"], addresses: ["240.240.0.20"], ports: [{ number: 7000, name: "tcp-metaprotocol-legacythrift-api", protocol: "TCP", targetPort: 7000 }], workloadSelector: { labels: { app: "ledger" } }, resolution: "STATIC" },
        });
        const plugin = await waitFor("server WasmPlugin of the ServiceEntry", async () => (await c.owned(K.wasmPlugin, ns))[0]);
        assert.equal(plugin.metadata.ownerReferences?.[0]?.uid, se.metadata.uid);
        assert.match(JSON.stringify(plugin.spec), /"protocol":"thrift"/);
        const proto = await waitFor("RpcProtocol status", () => c.ready(K.rpcProtocol, undefined, "legacythrift"));
        assert.equal(proto.status, "True");
        assert.equal(proto.observedGeneration, 1);
        // No Meltemi codec for bRPC: accepted or not, the reason is written, not dropped.
        const ap = await waitFor("ApplicationProtocol status", () => c.ready(K.applicationProtocol, ns, "brpc"));
        assert.notEqual(ap.reason, "Accepted", `a codec the filter lacks is reported: ${ap.reason}: ${ap.message}`);
        await c.delete(K.serviceEntry, ns, "ledger");
        await waitFor("WasmPlugin deleted with its ServiceEntry", async () => ((await c.owned(K.wasmPlugin, ns)).length === 0 ? true : undefined));
        await c.delete(K.rpcProtocol, undefined, "legacythrift");
      });

      await t.test("update and delete of every other input kind change and remove what it put there", async () => {
        const ns = await namespace(c, "kinds");
        const plugin = async () => (await c.owned(K.wasmPlugin, ns))[0];
        const spec = async () => JSON.stringify((await plugin())?.spec ?? null);
        const until = (what: string, test: (s: string) => boolean) => waitFor(what, async () => (test(await spec()) ? true : undefined));
        await c.create(K.service, dubboService(ns, "reviews"));
        await until("server plugin", (s) => s !== "null");

        // RpcRateLimit: create, update, delete.
        await c.create(K.rpcRateLimit, { apiVersion: "meltemi.dev/v1alpha1", kind: "RpcRateLimit", metadata: { name: "reviews", namespace: ns }, spec: { host: "reviews", local: { tokenBucket: { maxTokens: 100, tokensPerFill: 100, fillInterval: "1s" } } } });
        await until("bucket of 100", (s) => /"localRateLimit"/.test(s) && /"maxTokens":100/.test(s));
        await c.patch(K.rpcRateLimit, ns, "reviews", { spec: { local: { tokenBucket: { maxTokens: 7, tokensPerFill: 7, fillInterval: "1s" } } } });
        await until("bucket of 7", (s) => /"maxTokens":7/.test(s));
        assert.equal((await c.ready(K.rpcRateLimit, ns, "reviews"))?.status, "True");
        await c.delete(K.rpcRateLimit, ns, "reviews");
        await until("no bucket", (s) => s !== "null" && !/"localRateLimit"/.test(s));

        // RpcAuthorizationPolicy: create (fail closed), update, delete (back to the default).
        await c.create({ group: "meltemi.dev", version: "v1alpha1", plural: "rpcauthorizationpolicies" }, { apiVersion: "meltemi.dev/v1alpha1", kind: "RpcAuthorizationPolicy", metadata: { name: "no-admin", namespace: ns }, spec: { action: "DENY", rules: [{ to: [{ operation: { methods: ["admin*"] } }] }] } });
        await until("policy enforced, never fail open", (s) => /admin\*/.test(s) && /FAIL_RELOAD/.test(s));
        await c.patch({ group: "meltemi.dev", version: "v1alpha1", plural: "rpcauthorizationpolicies" }, ns, "no-admin", { spec: { rules: [{ to: [{ operation: { methods: ["root*"] } }] }] } });
        await until("policy updated", (s) => /root\*/.test(s) && !/admin\*/.test(s));
        await c.delete({ group: "meltemi.dev", version: "v1alpha1", plural: "rpcauthorizationpolicies" }, ns, "no-admin");
        await until("policy gone, fail open", (s) => /FAIL_OPEN/.test(s) && !/root\*/.test(s));

        // DubboAuthorizationPolicy (Aeraki): delete.
        await c.create(K.dubboAuthorizationPolicy, { apiVersion: "dubbo.aeraki.io/v1alpha1", kind: "DubboAuthorizationPolicy", metadata: { name: "deny", namespace: ns }, spec: { action: "DENY", rules: [{ to: [{ operation: { methods: ["drop*"] } }] }] } });
        await until("Aeraki policy enforced", (s) => /drop\*/.test(s));
        await c.delete(K.dubboAuthorizationPolicy, ns, "deny");
        await until("Aeraki policy gone", (s) => !/drop\*/.test(s));

        // MetaRouter (Aeraki) and DestinationRule: update and delete.
        await c.create(K.metaRouter, { apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "MetaRouter", metadata: { name: "reviews", namespace: ns }, spec: { hosts: [HOST("reviews", ns)], exportTo: ["."], routes: [{ name: "r", route: [{ destination: { host: HOST("reviews", ns), subset: "blue" } }] }] } });
        const routed = (subset: string) => waitFor(`EnvoyFilter routes to ${subset}`, async () => {
          const [ef] = await c.owned(K.envoyFilter, ns);
          return ef && JSON.stringify(ef.spec).includes(`outbound|20880|${subset}|`) ? ef : undefined;
        });
        await routed("blue");
        await waitFor("SubsetNotFound warning", async () => ((await c.ready(K.metaRouter, ns, "reviews"))?.message.includes("blue") ? true : undefined));
        await c.create(K.destinationRule, { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "reviews", namespace: ns }, spec: { host: HOST("reviews", ns), subsets: [{ name: "blue", labels: { c: "blue" } }] } });
        await waitFor("accepted with the subset defined", async () => ((await c.ready(K.metaRouter, ns, "reviews"))?.reason === "Accepted" ? true : undefined));
        await c.delete(K.destinationRule, ns, "reviews");
        await waitFor("warning again without it", async () => ((await c.ready(K.metaRouter, ns, "reviews"))?.reason === "AcceptedWithWarnings" ? true : undefined));
        await c.patch(K.metaRouter, ns, "reviews", { spec: { routes: [{ name: "r", route: [{ destination: { host: HOST("reviews", ns), subset: "green" } }] }] } });
        await routed("green");
        await c.delete(K.metaRouter, ns, "reviews");
        await waitFor("EnvoyFilter gone with the MetaRouter", async () => ((await c.owned(K.envoyFilter, ns)).length === 0 ? true : undefined));

        // Service update: a new port number renames the server plugin; the old one goes.
        await c.patch(K.service, ns, "reviews", { spec: { ports: [{ name: "tcp-metaprotocol-dubbo-api", port: 20881, targetPort: 20881 }] } });
        await waitFor("plugin for the new port only", async () => {
          const names = (await c.owned(K.wasmPlugin, ns)).map((o) => o.metadata.name);
          return names.length === 1 && names[0] === "meltemi-server-reviews-20881" ? true : undefined;
        });
      });

      await t.test("protocols, ServiceEntries, Aeraki policies and cross-namespace routing: updates change outputs, deletes remove them", async () => {
        const ns = await namespace(c, "protocols");
        const callers = await namespace(c, "callers");
        const plugins = async () => (await c.owned(K.wasmPlugin, ns)).map((o) => JSON.stringify(o.spec));
        const pluginsMatch = (what: string, test: (specs: string[]) => boolean) => waitFor(what, async () => (test(await plugins()) ? true : undefined));

        // RpcProtocol: the codec of a custom protocol name, then changed, then deleted.
        await c.create(K.rpcProtocol, { apiVersion: "meltemi.dev/v1alpha1", kind: "RpcProtocol", metadata: { name: "legacy2" }, spec: { codec: "thrift", routingMode: "perConnection" } });
        await c.create(K.serviceEntry, {
          apiVersion: "networking.istio.io/v1", kind: "ServiceEntry", metadata: { name: "vault", namespace: ns },
          spec: { hosts: ["vault.example.internal"], addresses: ["240.240.0.21"], ports: [{ number: 7100, name: "tcp-metaprotocol-legacy2-api", protocol: "TCP", targetPort: 7100 }], workloadSelector: { labels: { app: "vault" } }, resolution: "STATIC" },
        });
        await pluginsMatch("a thrift plugin for the ServiceEntry", (specs) => specs.length === 1 && /"protocol":"thrift"/.test(specs[0]!));
        await c.patch(K.rpcProtocol, undefined, "legacy2", { spec: { codec: "dubbo" } });
        await pluginsMatch("the plugin follows the protocol's new codec", (specs) => specs.length === 1 && /"protocol":"dubbo"/.test(specs[0]!));
        // ServiceEntry update: a new target port moves the plugin's port match.
        await c.patch(K.serviceEntry, ns, "vault", { spec: { ports: [{ number: 7100, name: "tcp-metaprotocol-legacy2-api", protocol: "TCP", targetPort: 7101 }] } });
        await pluginsMatch("the plugin matches the new target port", (specs) => specs.length === 1 && /"number":7101/.test(specs[0]!) && !/"number":7100/.test(specs[0]!));
        await c.delete(K.rpcProtocol, undefined, "legacy2");
        await pluginsMatch("no Meltemi protocol of that name: no plugin", (specs) => specs.length === 0);

        // Aeraki ApplicationProtocol: the same port name now registered the Aeraki way; updated; deleted.
        await c.create(K.applicationProtocol, { apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "ApplicationProtocol", metadata: { name: "legacy2", namespace: ns }, spec: { protocol: "legacy2", codec: "aeraki.meta_protocol.codec.thrift" } });
        await pluginsMatch("a thrift plugin from the ApplicationProtocol", (specs) => specs.length === 1 && /"protocol":"thrift"/.test(specs[0]!));
        await c.patch(K.applicationProtocol, ns, "legacy2", { spec: { codec: "aeraki.meta_protocol.codec.dubbo" } });
        await pluginsMatch("the plugin follows the ApplicationProtocol's codec", (specs) => specs.length === 1 && /"protocol":"dubbo"/.test(specs[0]!));
        // DubboAuthorizationPolicy update on the (now Dubbo) service.
        await c.create(K.dubboAuthorizationPolicy, { apiVersion: "dubbo.aeraki.io/v1alpha1", kind: "DubboAuthorizationPolicy", metadata: { name: "deny", namespace: ns }, spec: { action: "DENY", rules: [{ to: [{ operation: { methods: ["wipe*"] } }] }] } });
        await pluginsMatch("the policy enforced", (specs) => specs.length === 1 && /wipe\*/.test(specs[0]!));
        await c.patch(K.dubboAuthorizationPolicy, ns, "deny", { spec: { rules: [{ to: [{ operation: { methods: ["purge*"] } }] }] } });
        await pluginsMatch("the policy updated", (specs) => specs.length === 1 && /purge\*/.test(specs[0]!) && !/wipe\*/.test(specs[0]!));
        await c.delete(K.dubboAuthorizationPolicy, ns, "deny");
        await c.delete(K.applicationProtocol, ns, "legacy2");
        await pluginsMatch("no protocol of that name again: no plugin", (specs) => specs.length === 0);

        // An RpcRouter for callers in another namespace: its EnvoyFilter lives there, with no
        // ownerReference (they cannot cross namespaces), and the runtime deletes it with the router.
        await c.create(K.service, dubboService(ns, "orders"));
        await c.create(K.rpcRouter, router(ns, "orders", HOST("orders", ns), [["v1", 1]], { clients: { namespaces: [callers] } }));
        const ef = await waitFor("the client EnvoyFilter in the callers' namespace", async () => (await c.owned(K.envoyFilter, callers))[0]);
        assert.equal(ownerOf(ef), `RpcRouter/${ns}/orders`);
        assert.deepEqual(await c.owned(K.envoyFilter, ns), [], "none in the router's own namespace");
        await c.delete(K.rpcRouter, ns, "orders");
        await waitFor("the cross-namespace EnvoyFilter deleted with its router", async () => ((await c.owned(K.envoyFilter, callers)).length === 0 ? true : undefined));
      });

      const allOwned = async () => {
        const objs = [...await c.list(K.wasmPlugin, undefined, "app.kubernetes.io/managed-by=meltemi"), ...await c.list(K.envoyFilter, undefined, "app.kubernetes.io/managed-by=meltemi")];
        return objs.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name} rv=${o.metadata.resourceVersion}`).sort();
      };
      const lease = async () => (await c.get(K.lease, CONTROLLER_NAMESPACE, "meltemi-controller"))?.spec as { holderIdentity?: string } | undefined;

      await t.test("a controller restart converges with no duplicates and no rewrites; SIGTERM releases the Lease", async () => {
        const before = await allOwned();
        assert.ok(before.length >= 4, `owned objects: ${before.join(", ")}`);
        assert.equal((await lease())?.holderIdentity, "replica-a");
        await a.stop("SIGTERM");
        assert.equal(a.child.exitCode, 0, "clean exit on SIGTERM");
        assert.ok(a.entries("released the lease").length === 1, "lease released");
        assert.ok(!(await lease())?.holderIdentity, "no holder after release");
        a = await start("replica-a2");
        await waitReady(a, /leader/);
        const first = await waitFor("first reconcile of the new replica", () => a.entries("reconciled")[0]);
        assert.equal(first.applied, 0);
        assert.equal(first.deleted, 0);
        assert.deepEqual(await allOwned(), before, "same objects, same resourceVersions");
      });

      await t.test("an API server crash in the middle of the watches: the controller recovers", async () => {
        const uids = async () => [...await c.list(K.wasmPlugin, undefined, "app.kubernetes.io/managed-by=meltemi"), ...await c.list(K.envoyFilter, undefined, "app.kubernetes.io/managed-by=meltemi")].map((o) => o.metadata.uid!);
        const before = await uids();
        await kube.restartApiserver("SIGKILL");
        const ns = await namespace(c, "after-crash");
        await c.create(K.service, dubboService(ns, "books"));
        await c.create(K.rpcRouter, router(ns, "books", HOST("books", ns), [["v1", 1]]));
        await waitFor("outputs after the restart", async () => ((await c.owned(K.envoyFilter, ns)).length === 1 && (await c.owned(K.wasmPlugin, ns)).length === 1 ? true : undefined), 60_000);
        await waitFor("status after the restart", () => c.ready(K.rpcRouter, ns, "books"));
        const after = new Set(await uids());
        assert.deepEqual(before.filter((u) => !after.has(u)), [], "no output was deleted (and re-created) around the restart");
      });

      await t.test("two replicas: only the Lease holder writes; the other takes over when it dies", async () => {
        const b = await start("replica-b");
        assert.match(await waitReady(b), /standby/, "a is still the leader");
        const metric = async (p: ControllerProcess, name: string) => {
          const text = (await p.get("/metrics")).body;
          const line = text.split("\n").find((l) => l.startsWith(name));
          return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
        };
        const ns = await namespace(c, "ha");
        await c.create(K.service, dubboService(ns, "one"));
        await waitFor("output by the leader", async () => (await c.owned(K.wasmPlugin, ns))[0]);
        assert.equal(await metric(b, "meltemi_leader"), 0);
        assert.equal(await metric(b, 'meltemi_reconciles_total{result="success"}'), 0, "the standby never reconciled");
        assert.equal(await metric(b, 'meltemi_object_writes_total{operation="apply"}'), 0, "the standby never wrote");
        assert.ok((await metric(a, 'meltemi_reconciles_total{result="success"}'))! > 0);
        assert.ok((await metric(a, "meltemi_reconcile_duration_seconds_count"))! > 0);

        await a.stop("SIGKILL"); // no release: b must wait the lease out
        await waitFor("replica-b holds the Lease", async () => ((await lease())?.holderIdentity === "replica-b" ? true : undefined), 30_000);
        await c.create(K.service, dubboService(ns, "two"));
        await waitFor("output by the new leader", async () => ((await c.owned(K.wasmPlugin, ns)).length === 2 ? true : undefined));
        assert.equal(await metric(b, "meltemi_leader"), 1);
        assert.ok((await metric(b, 'meltemi_object_writes_total{operation="apply"}'))! > 0);
        await b.stop("SIGTERM");
        assert.ok(!(await lease())?.holderIdentity, "released on SIGTERM");
      });
    } catch (err) {
      for (const p of started) console.error(`---- controller ${p.identity} log ----\n${p.logs.slice(-80).join("\n")}`);
      throw err;
    } finally {
      for (const p of started) await p.stop("SIGKILL");
    }
  });
});
