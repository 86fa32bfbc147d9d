// Dubbo through real Istio, with real Apache Dubbo providers (test/peers/dubbo) behind two serving
// pods (subsets v1, v2) and a caller pod: the controller turns an Aeraki MetaRouter into the caller's
// EnvoyFilter (dubbo_proxy behind Meltemi on istiod's own outbound listener, routing each request to
// istiod's subset clusters), and an RpcRateLimit plus an RpcAuthorizationPolicy into the serving pods'
// WasmPlugin (module pulled by istio-agent by digest). STRICT mTLS with istiod's certificates between
// the sidecars. One caller connection then shows per-request routing by method, the limit, and the
// denial by the caller's mTLS principal, each answered as a Dubbo error reply; then an edit of the
// MetaRouter reaches that running connection through istiod without a drop; then Meltemi's RpcRouter in
// its place routes perConnection with an abort fault; no NACK.
// Runs in its own network namespace (netns.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { KubeHttp } from "../../controller/runtime/kube_http";
import { peersClasspath, startProvider } from "../codec/dubbo/peers";
import { installCrds } from "../kube/crds";
import { repoRoot } from "../repo_root";
import { sleep } from "../kube/process";
import path from "node:path";
import { DubboConnection, type Outcome } from "../envoy/dubbo_connection";
import { inIstioNamespace } from "./netns";
import { ENVOY_VERSIONS, withMesh } from "./mesh";
import { waitFor } from "../wait";

await inIstioNamespace(import.meta.url, { extra: ["dubbo"] });

const NS = "shop";
const PORT = 20880;
const HOST = `greeter-dubbo.${NS}.svc.cluster.local`;
const LIMIT = 3;
const ABORT = "chaos drill: nothing unavailable";
const CALLER = `cluster.local/ns/${NS}/sa/caller`;
/** Auto mTLS: istiod sends ISTIO_MUTUAL to endpoints that carry this label (a sidecar-injected pod's). */
const MESH_LABEL = { "security.istio.io/tlsMode": "istio" };

/** One call on `conn`, waited for (bounded); a closed connection fails it at once. */
async function call(conn: DubboConnection, id: bigint, method: string): Promise<Outcome> {
  conn.send(id, method);
  const deadline = Date.now() + 30_000;
  while (!conn.outcomes.has(id)) {
    assert.ok(!conn.closed, `the connection was closed before call ${id} (${method}) was answered`);
    assert.ok(Date.now() < deadline, `call ${id} (${method}): no answer in 30 s`);
    await sleep(5);
  }
  return conn.outcomes.get(id)!;
}

/** Aeraki's MetaRouter for the service: `method` to `first`, every other call to `rest`. */
function metaRouter(method: string, first: string, rest: string): Record<string, unknown> {
  return {
    apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "MetaRouter", metadata: { name: "greeter-dubbo", namespace: NS },
    spec: {
      hosts: [HOST],
      routes: [
        { name: `${method}-to-${first}`, match: { attributes: { method: { exact: method } } }, route: [{ destination: { host: HOST, subset: first } }] },
        { name: `rest-to-${rest}`, route: [{ destination: { host: HOST, subset: rest } }] },
      ],
    },
  };
}

/** Which provider answered: the response attachment served-by=<version> in the reply's body. */
function servedBy(o: Outcome): string | undefined {
  return /served-by.(dubbo-v[12])/.exec(o.body)?.[1];
}

for (const envoy of ENVOY_VERSIONS) test(`Envoy ${envoy}: Dubbo through istiod: an Aeraki MetaRouter routes per request by method to istiod's subset clusters, over STRICT mTLS limited and denied (by principal) by the serving pods; a MetaRouter edit reaches the running connection; perConnection with an abort fault; no NACK`, { timeout: 900_000 }, async (t) => {
  const classpath = peersClasspath();
  await withMesh(envoy, async (mesh) => {
    await mesh.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
    await mesh.apply({ apiVersion: "security.istio.io/v1", kind: "PeerAuthentication", metadata: { name: "default", namespace: NS }, spec: { mtls: { mode: "STRICT" } } });
    await mesh.apply({ apiVersion: "meltemi.dev/v1alpha1", kind: "RpcProtocol", metadata: { name: "dubbo" }, spec: { codec: "dubbo", routingMode: "perRequest" } });
    await mesh.apply({
      apiVersion: "v1", kind: "Service", metadata: { name: "greeter-dubbo", namespace: NS },
      spec: { selector: { app: "greeter-dubbo" }, ports: [{ name: "tcp-metaprotocol-dubbo-api", port: PORT, targetPort: PORT }] },
    });
    await mesh.apply({
      apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "greeter-dubbo", namespace: NS },
      spec: { host: HOST, subsets: [{ name: "v1", labels: { version: "v1" } }, { name: "v2", labels: { version: "v2" } }] },
    });
    const svc = (await new KubeHttp(mesh.kube.kubeConfig()).request<{ spec: { clusterIP: string } }>("GET", `/api/v1/namespaces/${NS}/services/greeter-dubbo`)).spec.clusterIP;

    const servers = [];
    for (const [version, ip] of [["v1", "127.0.1.1"], ["v2", "127.0.1.2"]] as const) {
      const provider = await startProvider(classpath, { servedBy: `dubbo-${version}` });
      mesh.onStop(() => provider.process.kill());
      servers.push(await mesh.pod({
        name: `greeter-dubbo-${version}`, namespace: NS, serviceAccount: "greeter", labels: { app: "greeter-dubbo", version, ...MESH_LABEL }, ip,
        sidecar: { ingress: [{ port: { number: PORT, protocol: "TCP", name: "tcp-dubbo" }, bind: ip, defaultEndpoint: `127.0.0.1:${provider.port}` }], egress: [{ hosts: [`${NS}/*`] }] },
      }));
    }
    // As in client-side.test.ts: the outbound listener binds the clusterIP, so it is `<clusterIP>_20880`.
    const caller = await mesh.pod({
      name: "caller", namespace: NS, serviceAccount: "caller", labels: { app: "caller", ...MESH_LABEL }, ip: "127.0.2.1",
      sidecar: { egress: [{ port: { number: PORT, protocol: "TCP", name: "tcp-dubbo" }, bind: svc, hosts: [`${NS}/${HOST}`] }] },
    });

    // Aeraki's CRDs (as in a cluster running Aeraki), before the controller starts watching.
    await installCrds(mesh.kube.kubeConfig(), path.join(repoRoot, "test/kube/testdata/aeraki-crds.yaml"));
    await mesh.startController();
    await mesh.apply(metaRouter("nothing", "v1", "v2"));
    await mesh.apply({
      apiVersion: "meltemi.dev/v1alpha1", kind: "RpcRateLimit", metadata: { name: "greeter-dubbo", namespace: NS },
      spec: { host: HOST, local: { conditions: [{ match: { method: { exact: "nothing" } }, tokenBucket: { maxTokens: LIMIT, tokensPerFill: LIMIT, fillInterval: "1h" } }] } },
    });
    await mesh.apply({
      apiVersion: "meltemi.dev/v1alpha1", kind: "RpcAuthorizationPolicy", metadata: { name: "no-fail", namespace: NS },
      // The caller's principal, from its istiod-issued certificate, seen by the serving sidecar.
      spec: { hosts: [HOST], action: "DENY", rules: [{ from: [{ source: { principals: [CALLER] } }], to: [{ operation: { methods: ["fail"] } }] }] },
    });

    await waitFor("the caller's outbound listener patched (dubbo_proxy) and Meltemi's client filter delivered", async () => {
      const listeners = await caller.admin("/config_dump?resource=dynamic_listeners");
      const ecds = await caller.admin("/config_dump?resource=ecds_filters");
      return listeners.includes("envoy.filters.network.dubbo_proxy") && /meltemi-client-greeter-dubbo/.test(ecds) && (await caller.listenersSettled()) ? true : undefined;
    }, 240_000, () => mesh.logs());
    for (const pod of servers) {
      await waitFor(`${pod.spec.name}: Meltemi's server filter with the limit and the policy`, async () => {
        const ecds = await pod.admin("/config_dump?resource=ecds_filters");
        return /meltemi-server-greeter-dubbo/.test(ecds) && /localRateLimit/.test(ecds) && /shop\/no-fail/.test(ecds) && ecds.includes(CALLER) && (await pod.listenersSettled()) ? true : undefined;
      }, 240_000, () => mesh.logs());
    }

    // One connection to the Service's address, as a Dubbo consumer in a cluster makes.
    const conn = await DubboConnection.open(PORT, svc);
    mesh.onStop(() => conn.close());
    let next = 1n;
    const calls: { method: string; id: bigint }[] = [];
    const send = (method: string) => { const id = next++; calls.push({ method, id }); conn.send(id, method); };
    for (let i = 0; i < 4; i++) send("echo");
    for (let i = 0; i < LIMIT + 2; i++) send("nothing");
    send("fail");
    send("echo");
    await waitFor("every call answered", async () => (conn.outcomes.size === calls.length ? true : undefined), 60_000, () => mesh.logs());
    const outcomes = calls.map(({ method, id }) => ({ method, ...conn.outcomes.get(id)! }));
    t.diagnostic(outcomes.map((o) => `${o.method}: ${o.ok ? `ok from ${servedBy(o)}` : o.body.replace(/[^ -~]/g, "").slice(0, 80)}`).join("; "));

    const echoes = outcomes.filter((o) => o.method === "echo");
    assert.deepEqual(echoes.map((o) => [o.ok, servedBy(o)]), echoes.map(() => [true, "dubbo-v2"]), "every echo routed to v2, the one after the denial too");
    // Sent back to back, the calls may reach v1 over more than one of dubbo_proxy's upstream connections
    // (and so more than one of v1's Envoy workers): which ones pass is not in send order, how many is.
    const nothings = outcomes.filter((o) => o.method === "nothing");
    assert.equal(nothings.filter((o) => o.ok).length, LIMIT, "nothing: the limit of 3 at v1");
    for (const o of nothings.filter((o) => o.ok)) assert.equal(servedBy(o), "dubbo-v1", "nothing routed to v1");
    for (const o of nothings.filter((o) => !o.ok)) assert.match(o.body, /meltemi: rate limit exceeded/);
    const fail = outcomes.find((o) => o.method === "fail")!;
    assert.equal(fail.ok, false);
    assert.match(fail.body, /meltemi: unauthorized \(shop\/no-fail\)/, "denied by the serving pod's policy for the caller's principal, not thrown by the provider");
    assert.equal(conn.closed, false, "the connection carried every call");

    // The MetaRouter edited: echo now to v1. The clusters and their order (v1, v2: dubbo_proxy's route
    // table) stay, so only the filter's configuration changes (ECDS); the running connection's filter
    // follows it on its tick. Every call on the way is answered; 20 echo answers in a row from v1 say
    // the edit is in force (before it, every echo went to v2).
    const listenerModified = async () => (await caller.stats("^listener_manager\\.listener_modified$")).get("listener_manager.listener_modified");
    const modifiedBefore = await listenerModified();
    await mesh.apply(metaRouter("echo", "v1", "v2"));
    let inARow = 0;
    let editCalls = 0;
    const deadline = Date.now() + 240_000;
    for (; inARow < 20; editCalls++) {
      assert.ok(Date.now() < deadline && editCalls < 20_000, `the edit did not reach the running connection (${editCalls} calls)\n${mesh.logs()}`);
      const o = await call(conn, next++, "echo");
      assert.ok(o.ok, `echo ${o.id} during the edit failed: ${o.body}`);
      inARow = servedBy(o) === "dubbo-v1" ? inARow + 1 : 0;
    }
    t.diagnostic(`the MetaRouter edit was in force on the running connection after ${editCalls - 20} calls; listener_modified ${modifiedBefore} -> ${await listenerModified()}`);
    assert.equal(conn.closed, false, "the running connection was not dropped");
    assert.equal(await listenerModified(), modifiedBefore, "the caller's listener was not replaced (no drain)");

    // Meltemi's own RpcRouter in place of the MetaRouter: perConnection (Meltemi picks v2 at the first
    // request, tcp_proxy connects there with it as early data) and an abort fault on `nothing`, answered
    // by the caller's Meltemi as a Dubbo error reply on a connection that carries on.
    await new KubeHttp(mesh.kube.kubeConfig()).request("DELETE", `/apis/metaprotocol.aeraki.io/v1alpha1/namespaces/${NS}/metarouters/greeter-dubbo`);
    await mesh.apply({
      apiVersion: "meltemi.dev/v1alpha1", kind: "RpcRouter", metadata: { name: "greeter-dubbo", namespace: NS },
      spec: {
        host: HOST, routingMode: "perConnection",
        routes: [{ name: "all-to-v2", destinations: [{ subset: "v2" }] }],
        faults: [{ match: { method: { exact: "nothing" } }, abort: { percent: 100, message: ABORT } }],
      },
    });
    await waitFor("the caller's listener with tcp_proxy early data and the perConnection filter", async () => {
      const listeners = await caller.admin("/config_dump?resource=dynamic_listeners");
      const ecds = await caller.admin("/config_dump?resource=ecds_filters");
      return !listeners.includes("envoy.filters.network.dubbo_proxy") && listeners.includes("max_early_data_bytes") && ecds.includes(ABORT) && (await caller.listenersSettled()) ? true : undefined;
    }, 240_000, () => mesh.logs());
    const perConnection: string[] = [];
    for (let c = 0; c < 3; c++) {
      const fresh = await DubboConnection.open(PORT, svc);
      mesh.onStop(() => fresh.close());
      const [first, aborted, last] = [await call(fresh, 1n, "echo"), await call(fresh, 2n, "nothing"), await call(fresh, 3n, "echo")];
      assert.equal(aborted.ok, false, `connection ${c}: nothing is aborted`);
      assert.match(aborted.body, new RegExp(ABORT), `connection ${c}: the fault's message`);
      for (const o of [first, last]) { assert.ok(o.ok, `connection ${c}: echo ${o.id}: ${o.body}`); perConnection.push(servedBy(o) ?? "?"); }
      fresh.close();
    }
    assert.deepEqual(perConnection, perConnection.map(() => "dubbo-v2"), "every perConnection connection went to v2");

    for (const pod of mesh.pods) assert.deepEqual(Object.fromEntries(await pod.rejections()), {}, `${pod.spec.name}: no xDS update rejected`);
  });
});
