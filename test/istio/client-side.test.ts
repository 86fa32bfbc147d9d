// The client side through real Istio: the controller turns an RpcRouter into an EnvoyFilter (the
// filter through ECDS, thrift_proxy in place of tcp_proxy on the Service's outbound listener); istiod
// patches the caller sidecar's own outbound listener with it, and Meltemi routes each Thrift call by
// method and weight to istiod's own subset clusters (outbound|9090|v1|..., EDS from WorkloadEntries).
// Runs in its own network namespace (netns.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { KubeHttp } from "../../controller/runtime/kube_http";
import { WIRES, connect, generated, startServer } from "../codec/thrift/peers";
import { inIstioNamespace } from "./netns";
import { ENVOY_VERSIONS, withMesh } from "./mesh";
import { bounded, waitFor } from "./sidecar";

await inIstioNamespace(import.meta.url);

const NS = "shop";
const PORT = 9090;
const HOST = `greeter.${NS}.svc.cluster.local`;
const HELLO_CALLS = 200;
const NOTIFY_CALLS = 20;

for (const envoy of ENVOY_VERSIONS) {
  test(`Envoy ${envoy}: client side through istiod: per-request routing by method and weight to istiod's subset clusters, no NACK`, { timeout: 900_000 }, async (t) => {
    await withMesh(envoy, async (mesh) => {
      await mesh.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
      await mesh.apply({ apiVersion: "meltemi.dev/v1alpha1", kind: "RpcProtocol", metadata: { name: "framedthrift" }, spec: { codec: "thrift", routingMode: "perRequest", thrift: { transport: "FRAMED", protocol: "BINARY" } } });
      await mesh.apply({
        apiVersion: "v1", kind: "Service", metadata: { name: "greeter", namespace: NS },
        spec: { selector: { app: "greeter" }, ports: [{ name: "tcp-metaprotocol-framedthrift-api", port: PORT, targetPort: PORT }] },
      });
      await mesh.apply({
        apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "greeter", namespace: NS },
        spec: { host: HOST, subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }] },
      });
      // The apiserver allocated it from the 127.10.0.0/16 range (mesh.ts).
      const svc = (await new KubeHttp(mesh.kube.kubeConfig()).request<{ spec: { clusterIP: string } }>("GET", `/api/v1/namespaces/${NS}/services/greeter`)).spec.clusterIP;
      assert.match(svc, /^127\.10\./);

      const wire = WIRES.find((w) => w.name === "framed binary")!;
      const apps = new Map<string, Awaited<ReturnType<typeof startServer>>>();
      for (const [version, ip] of [["v1", "127.0.1.1"], ["v2", "127.0.1.2"]]) {
        const app = await startServer(wire, { greeting: version });
        apps.set(version, app);
        mesh.onStop(() => app.close());
        await mesh.pod({
          name: `greeter-${version}`, namespace: NS, serviceAccount: "greeter", labels: { app: "greeter", version }, ip,
          sidecar: { ingress: [{ port: { number: PORT, protocol: "TCP", name: "tcp-thrift" }, bind: ip, defaultEndpoint: `127.0.0.1:${app.port}` }], egress: [{ hosts: [`${NS}/*`] }] },
        });
      }
      // The caller's outbound listener binds the Service's clusterIP: Istio names it `<clusterIP>_9090`,
      // the name the controller's EnvoyFilter matches (as in a cluster with iptables capture).
      const caller = await mesh.pod({
        name: "caller", namespace: NS, serviceAccount: "caller", labels: { app: "caller" }, ip: "127.0.2.1",
        sidecar: { egress: [{ port: { number: PORT, protocol: "TCP", name: "tcp-thrift" }, bind: svc, hosts: [`${NS}/${HOST}`] }] },
      });
      const listener = `${svc}_${PORT}`;
      assert.ok((await caller.listeners()).includes(listener), `the caller has ${listener}: ${(await caller.listeners()).join(", ")}`);

      await mesh.startController();
      await mesh.apply({
        apiVersion: "meltemi.dev/v1alpha1", kind: "RpcRouter", metadata: { name: "greeter", namespace: NS },
        spec: {
          host: HOST,
          routes: [
            { name: "notify-to-v2", match: { method: { exact: "notify" } }, destinations: [{ subset: "v2" }] },
            { name: "split", destinations: [{ subset: "v1", weight: 80 }, { subset: "v2", weight: 20 }] },
          ],
        },
      });
      // The patched listener (thrift_proxy behind Meltemi) and the filter itself (ECDS) are both in.
      await waitFor("the caller's outbound listener patched and Meltemi's filter delivered", 240_000, async () => {
        const listeners = await caller.admin("/config_dump?resource=dynamic_listeners");
        const ecds = await caller.admin("/config_dump?resource=ecds_filters");
        return listeners.includes("envoy.filters.network.thrift_proxy") && /meltemi-client-greeter/.test(ecds) && (await caller.listenersSettled()) ? true : undefined;
      }, () => mesh.logs());
      assert.deepEqual(Object.fromEntries(await caller.rejections()), {}, "the caller's Envoy accepted the listener patch and the filter");

      const { Greeter } = generated();
      const client = connect(PORT, wire, svc);
      mesh.onStop(() => client.close());
      const greeter = client.client(Greeter);
      // One connection: tcp_proxy alone would send every call to the pod it picked at connect.
      const served = new Map<string, number>();
      const count = (key: string) => served.set(key, (served.get(key) ?? 0) + 1);
      // notify is oneway: the servers record what they got.
      for (let i = 0; i < NOTIFY_CALLS; i++) greeter.notify(`n${i}`, () => {});
      for (let i = 0; i < HELLO_CALLS; i++) {
        const reply = await bounded(`hello h${i}`, 30_000, new Promise<string>((resolve, reject) => greeter.hello(`h${i}`, (err: Error | null, r: string) => (err ? reject(err) : resolve(r)))));
        count(`hello ${reply.split(" ")[0]}`);
      }
      await waitFor("every notify at v2", 60_000, async () => (apps.get("v2")!.notes.length === NOTIFY_CALLS ? true : undefined));
      assert.deepEqual(apps.get("v1")!.notes, [], "the method route sends notify to v2 only");
      const v1 = served.get("hello v1") ?? 0;
      const v2 = served.get("hello v2") ?? 0;
      t.diagnostic(`hello: v1 ${v1}, v2 ${v2}; notify: v2 ${apps.get("v2")!.notes.length}, v1 ${apps.get("v1")!.notes.length}`);
      assert.equal(v1 + v2, HELLO_CALLS, JSON.stringify([...served]));
      // 80/20 over 200 calls: mean 160, sd about 5.7; 130..190 is more than 5 sd either side.
      assert.ok(v1 >= 130 && v1 <= 190, `hello: v1 ${v1}, v2 ${v2}`);

      for (const pod of mesh.pods) assert.deepEqual(Object.fromEntries(await pod.rejections()), {}, `${pod.spec.name}: no xDS update rejected`);
    });
  });
}
