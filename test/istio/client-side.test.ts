// The client side through real Istio: the controller turns an RpcRouter into an EnvoyFilter (the
// filter through ECDS, thrift_proxy in place of tcp_proxy on the Service's outbound listener); istiod
// patches the caller sidecar's own outbound listener with it, and Meltemi routes each Thrift call by
// method and weight to istiod's own subset clusters (outbound|9090|v1|..., EDS from WorkloadEntries).
// On the same mesh: an RpcRouter edit reaches the running connection through istiod (ECDS only, the
// listener stays, no call fails) with an abort fault; perConnection routing of a second Service; and
// a DestinationRule's outlier detection ejecting a failing pod from the cluster Meltemi routes to.
// Runs in its own network namespace (netns.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { KubeHttp } from "../../controller/runtime/kube_http";
import { WIRES, connect, generated, sampleItem, startServer } from "../codec/thrift/peers";
import { inIstioNamespace } from "./netns";
import { ENVOY_VERSIONS, withMesh } from "./mesh";
import { type SidecarPod, bounded } from "./sidecar";
import { waitFor } from "../wait";

await inIstioNamespace(import.meta.url);

const NS = "shop";
const PORT = 9090;
const HOST = `greeter.${NS}.svc.cluster.local`;
const HELLO_CALLS = 200;
const NOTIFY_CALLS = 20;
const STICKY = "greeter-sticky";
const STICKY_HOST = `${STICKY}.${NS}.svc.cluster.local`;
const ABORT = "chaos drill: echo unavailable";
const V1_IP = "127.0.1.1";
const V2_IP = "127.0.1.2";

type Greeter = { hello(name: string, cb: (err: Error | null, r: string) => void): void; echo(item: unknown, cb: (err: { name?: string; message?: string } | null, r: unknown) => void): void };

/** One hello call: the version that answered ("v1 h3" -> "v1"), or the error as "Name: message". */
function hello(greeter: Greeter, name: string): Promise<{ ok: boolean; version: string }> {
  return bounded(`hello ${name}`, 30_000, new Promise((resolve) => greeter.hello(name, (err: { name?: string; message?: string } | null, r: string) =>
    resolve(err ? { ok: false, version: `${err.name}: ${err.message}` } : { ok: true, version: r.split(" ")[0] }))));
}

for (const envoy of ENVOY_VERSIONS) {
  test(`Envoy ${envoy}: client side through istiod: per-request routing by method and weight to istiod's subset clusters; a router edit followed by a running connection, with an abort fault; perConnection routing; a DestinationRule's outlier detection on Meltemi's routes; no NACK`, { timeout: 900_000 }, async (t) => {
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
      // A second Service over the same pods, routed perConnection (a router's mode is per host).
      await mesh.apply({
        apiVersion: "v1", kind: "Service", metadata: { name: STICKY, namespace: NS },
        spec: { selector: { app: "greeter" }, ports: [{ name: "tcp-metaprotocol-framedthrift-api", port: PORT, targetPort: PORT }] },
      });
      await mesh.apply({
        apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: STICKY, namespace: NS },
        spec: { host: STICKY_HOST, subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }] },
      });
      // The apiserver allocated them from the 127.10.0.0/16 range (mesh.ts).
      const clusterIP = async (name: string) => (await new KubeHttp(mesh.kube.kubeConfig()).request<{ spec: { clusterIP: string } }>("GET", `/api/v1/namespaces/${NS}/services/${name}`)).spec.clusterIP;
      const svc = await clusterIP("greeter");
      const stickySvc = await clusterIP(STICKY);
      assert.match(svc, /^127\.10\./);

      const wire = WIRES.find((w) => w.name === "framed binary")!;
      const apps = new Map<string, Awaited<ReturnType<typeof startServer>>>();
      const servers = new Map<string, SidecarPod>();
      for (const [version, ip] of [["v1", V1_IP], ["v2", V2_IP]]) {
        const app = await startServer(wire, { greeting: version });
        apps.set(version, app);
        mesh.onStop(() => app.close());
        servers.set(version, await mesh.pod({
          name: `greeter-${version}`, namespace: NS, serviceAccount: "greeter", labels: { app: "greeter", version }, ip,
          sidecar: { ingress: [{ port: { number: PORT, protocol: "TCP", name: "tcp-thrift" }, bind: ip, defaultEndpoint: `127.0.0.1:${app.port}` }], egress: [{ hosts: [`${NS}/*`] }] },
        }));
      }
      // The caller's outbound listener binds the Service's clusterIP: Istio names it `<clusterIP>_9090`,
      // the name the controller's EnvoyFilter matches (as in a cluster with iptables capture).
      const caller = await mesh.pod({
        name: "caller", namespace: NS, serviceAccount: "caller", labels: { app: "caller" }, ip: "127.0.2.1",
        sidecar: {
          egress: [
            { port: { number: PORT, protocol: "TCP", name: "tcp-thrift" }, bind: svc, hosts: [`${NS}/${HOST}`] },
            { port: { number: PORT, protocol: "TCP", name: "tcp-thrift-sticky" }, bind: stickySvc, hosts: [`${NS}/${STICKY_HOST}`] },
          ],
        },
      });
      const listener = `${svc}_${PORT}`;
      // The pod's Sidecar (its egress binds) reaches istiod in a push of its own, which may come after
      // Envoy reports ready with the default listeners.
      await waitFor(`the caller has ${listener}`, async () => ((await caller.listeners()).includes(listener) ? true : undefined), 240_000,
        () => mesh.logs());

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
      await waitFor("the caller's outbound listener patched and Meltemi's filter delivered", async () => {
        const listeners = await caller.admin("/config_dump?resource=dynamic_listeners");
        const ecds = await caller.admin("/config_dump?resource=ecds_filters");
        return listeners.includes("envoy.filters.network.thrift_proxy") && /meltemi-client-greeter/.test(ecds) && (await caller.listenersSettled()) ? true : undefined;
      }, 240_000, () => mesh.logs());
      assert.deepEqual(Object.fromEntries(await caller.rejections()), {}, "the caller's Envoy accepted the listener patch and the filter");
      // The servers' own Meltemi filters (one per Service port) arrive on their own: the first one
      // replaces the inbound filter chain, and Envoy closes the connections of the old chain at the end
      // of the drain (drainDuration; docs/platform.md). A call in flight on such a connection fails
      // ("connection failure before response start"), so the calls below start once the servers are settled.
      for (const pod of servers.values()) {
        await waitFor(`${pod.spec.name}: Meltemi's server filters delivered, no filter chain draining`, async () => {
          const ecds = await pod.admin("/config_dump?resource=ecds_filters");
          return /meltemi-server-greeter-9090/.test(ecds) && /meltemi-server-greeter-sticky-9090/.test(ecds) && (await pod.listenersSettled()) ? true : undefined;
        }, 240_000, () => mesh.logs());
      }

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
      await waitFor("every notify at v2", async () => (apps.get("v2")!.notes.length === NOTIFY_CALLS ? true : undefined), 60_000);
      assert.deepEqual(apps.get("v1")!.notes, [], "the method route sends notify to v2 only");
      const v1 = served.get("hello v1") ?? 0;
      const v2 = served.get("hello v2") ?? 0;
      t.diagnostic(`hello: v1 ${v1}, v2 ${v2}; notify: v2 ${apps.get("v2")!.notes.length}, v1 ${apps.get("v1")!.notes.length}`);
      assert.equal(v1 + v2, HELLO_CALLS, JSON.stringify([...served]));
      // 80/20 over 200 calls: mean 160, sd about 5.7; 130..190 is more than 5 sd either side.
      assert.ok(v1 >= 130 && v1 <= 190, `hello: v1 ${v1}, v2 ${v2}`);

      // 2. An edit of the RpcRouter reaches the running connection: istiod sends the new filter config
      // through ECDS (the clusters are the same, so the listener is not replaced and the connection is
      // not drained; a changed route table would replace the listener's filter chain, which drains it); Envoy gives it to new connections, and the running connection's filter follows it
      // from shared data on its next tick (filter/plugin.ts). No call may fail on the way.
      const socket = client.conn.connection as import("node:net").Socket;
      let dropped = false;
      socket.once("close", () => (dropped = true));
      const listenerModified = async () => (await caller.stats("^listener_manager\\.listener_modified$")).get("listener_manager.listener_modified");
      const modifiedBefore = await listenerModified();
      await mesh.apply({
        apiVersion: "meltemi.dev/v1alpha1", kind: "RpcRouter", metadata: { name: "greeter", namespace: NS },
        spec: {
          host: HOST,
          // The same clusters in the same order (v2, v1: the thrift_proxy route table), so the
          // listener patch is unchanged; only the filter's configuration differs.
          routes: [
            { name: "notify-to-v2", match: { method: { exact: "notify" } }, destinations: [{ subset: "v2" }] },
            { name: "hello-to-v2", match: { method: { exact: "hello" } }, destinations: [{ subset: "v2" }] },
            { name: "rest-to-v1", destinations: [{ subset: "v1" }] },
          ],
          faults: [{ match: { method: { exact: "echo" } }, abort: { percent: 100, message: ABORT } }],
        },
      });
      // Under 80/20, 30 v2 answers in a row has odds of 0.2^30: the run of them says the edit is in force.
      // The calls go one after another, ~2,700 a second on the 2-core machine, and the edit takes ~2 s
      // (controller, istiod's debounce and ECDS push, the running connection's next tick): the count
      // bound is far above that, the deadline bounds the loop in time.
      let inARow = 0;
      let callsUntilEdit = 0;
      const editDeadline = Date.now() + 240_000;
      for (; inARow < 30; callsUntilEdit++) {
        assert.ok(Date.now() < editDeadline && callsUntilEdit < 200_000, `the edit did not reach the running connection (${callsUntilEdit} calls)\n${mesh.logs()}`);
        const r = await hello(greeter, `e${callsUntilEdit}`);
        assert.ok(r.ok, `call ${callsUntilEdit} during the edit failed: ${r.version}`);
        inARow = r.version === "v2" ? inARow + 1 : 0;
      }
      const aborted = await bounded("echo", 30_000, new Promise<string>((resolve) => greeter.echo(sampleItem(1), (err: { name?: string; message?: string } | null, r: unknown) => resolve(err ? `${err.name}: ${err.message}` : `answered ${JSON.stringify(r)}`))));
      assert.equal(aborted, `TApplicationException: ${ABORT}`, "the edited router's abort fault");
      assert.deepEqual(await hello(greeter, "after-abort"), { ok: true, version: "v2" }, "the connection carries calls after the abort");
      t.diagnostic(`the edit was in force on the running connection after ${callsUntilEdit - 30} calls; listener_modified ${modifiedBefore} -> ${await listenerModified()}`);
      assert.equal(dropped, false, "the running connection was not dropped");
      assert.equal(await listenerModified(), modifiedBefore, "the caller's listener was not replaced (no drain)");

      // 3. perConnection (the second Service): Meltemi picks the destination at the connection's first
      // request and tcp_proxy (with early data) connects there; tcp_proxy alone would spread the
      // connections over both pods.
      await mesh.apply({
        apiVersion: "meltemi.dev/v1alpha1", kind: "RpcRouter", metadata: { name: STICKY, namespace: NS },
        spec: { host: STICKY_HOST, routingMode: "perConnection", routes: [{ name: "hello-to-v1", match: { method: { exact: "hello" } }, destinations: [{ subset: "v1" }] }, { name: "rest", destinations: [{ subset: "v2" }] }] },
      });
      await waitFor("the sticky Service's filter delivered", async () => {
        const ecds = await caller.admin("/config_dump?resource=ecds_filters");
        return /meltemi-client-greeter-sticky/.test(ecds) && (await caller.listenersSettled()) ? true : undefined;
      }, 240_000, () => mesh.logs());
      // tcp_proxy's max_early_data_bytes (the MERGE of perConnection) is a field of Envoy 1.37+: an older
      // Envoy does not reject it but ignores it (server.dynamic_unknown_fields 0 -> 1 on 1.36.2), and the
      // first call of a connection is then never answered.
      assert.deepEqual(Object.fromEntries(await caller.rejections()), {}, `the caller took the perConnection listener patch whole:\n${caller.log().split("\n").filter((l) => /rejected|NACK|unknown field/i.test(l)).slice(-5).join("\n")}`);
      const sticky: string[] = [];
      for (let c = 0; c < 6; c++) {
        const conn = connect(PORT, wire, stickySvc);
        mesh.onStop(() => conn.close());
        const g = conn.client(Greeter);
        for (let i = 0; i < 3; i++) {
          const r = await hello(g, `s${c}.${i}`);
          assert.ok(r.ok, `sticky connection ${c} call ${i}: ${r.version}`);
          sticky.push(r.version);
        }
        await conn.close();
      }
      assert.deepEqual(sticky, sticky.map(() => "v1"), "every perConnection hello connection went to v1");
      const stickyV1 = await caller.clusterHosts(`outbound|${PORT}|v1|${STICKY_HOST}`);
      assert.equal(stickyV1.get(`${V1_IP}:${PORT}`)?.cx_total, "6", `tcp_proxy connected each connection to the subset cluster Meltemi chose: ${JSON.stringify([...stickyV1])}`);

      // 4. A DestinationRule's outlier detection applies to the clusters Meltemi routes to: route hello
      // to the Service's own cluster (both pods), give it outlier detection, stop v2's sidecar. A failed
      // connect to v2 counts as a 5xx (not split from external errors) and ejects v2; every later call
      // lands on v1. Without the ejection, round robin would keep failing every other call.
      await mesh.apply({
        apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "greeter", namespace: NS },
        spec: {
          host: HOST,
          trafficPolicy: { outlierDetection: { consecutive5xxErrors: 1, interval: "1s", baseEjectionTime: "15m", maxEjectionPercent: 100 } },
          subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }],
        },
      });
      await mesh.apply({
        apiVersion: "meltemi.dev/v1alpha1", kind: "RpcRouter", metadata: { name: "greeter", namespace: NS },
        spec: { host: HOST, routes: [{ name: "all-to-the-service", destinations: [{ host: HOST }] }] },
      });
      const serviceCluster = `outbound|${PORT}||${HOST}`;
      await waitFor("the service cluster with outlier detection, and the listener routing to it", async () => {
        const clusters = await caller.admin("/config_dump?resource=dynamic_active_clusters");
        const listeners = await caller.admin("/config_dump?resource=dynamic_listeners");
        const withOutlier = clusters.split(`"name": "${serviceCluster}"`).slice(1).some((c) => /"outlier_detection"/.test(c.slice(0, 4000)));
        return withOutlier && listeners.includes(`"cluster": "${serviceCluster}"`) && (await caller.listenersSettled()) ? true : undefined;
      }, 240_000, () => mesh.logs());
      await servers.get("v2")!.stop();
      // A new connection per call: thrift_proxy answers a failed upstream connect with an exception
      // and then closes the downstream connection (its local reply ends the stream). Istio's default
      // load balancer (LEAST_REQUEST: two random picks, idle hosts alike) sends a call to v2 with odds of
      // about 1/2, so the first failure comes after a random number of v1 calls; what must hold is what
      // follows it. Calls go on until 20 have followed the last failure (at most 60 in all).
      const outcomes: string[] = [];
      let sinceFailure = -1;
      while (sinceFailure < 20 && outcomes.length < 60) {
        const i = outcomes.length;
        const conn = connect(PORT, wire, svc);
        const closed = new Promise<{ ok: boolean; version: string }>((resolve) => (conn.conn.connection as import("node:net").Socket).once("close", () => resolve({ ok: false, version: "closed" })));
        const outcome = (await Promise.race([hello(conn.client(Greeter), `o${i}`), closed])).version;
        outcomes.push(outcome);
        await conn.close();
        if (outcome !== "v1") sinceFailure = 0;
        else if (sinceFailure >= 0) sinceFailure++;
      }
      const hosts = await caller.clusterHosts(serviceCluster);
      t.diagnostic(`with v2 down: ${outcomes.join(", ")}; ${JSON.stringify([...hosts].map(([h, f]) => [h, f.health_flags, f.rq_total]))}`);
      assert.match(hosts.get(`${V2_IP}:${PORT}`)?.health_flags ?? "", /failed_outlier_check/, "the DestinationRule's outlier detection ejected v2");
      assert.equal(hosts.get(`${V1_IP}:${PORT}`)?.health_flags, "healthy");
      const failures = outcomes.map((o, i) => (o === "v1" ? -1 : i)).filter((i) => i >= 0);
      assert.ok(failures.length >= 1, `a call reached v2 and failed (the ejection's cause): ${outcomes.join(", ")}`);
      // consecutive5xxErrors 1: the first failure ejects v2; the ejection reaches the other worker
      // through the main thread, so a second call already on its way may fail too, no more.
      assert.ok(failures.length <= 2 && failures[failures.length - 1] - failures[0] <= 1, `only the call(s) at the ejection failed: ${outcomes.join(", ")}`);
      assert.equal(sinceFailure, 20, `after the ejection every call lands on v1: ${outcomes.join(", ")}`);

      for (const pod of mesh.pods) {
        if (pod === servers.get("v2")) continue; // stopped above
        assert.deepEqual(Object.fromEntries(await pod.rejections()), {}, `${pod.spec.name}: no xDS update rejected`);
      }
    });
  });
}
