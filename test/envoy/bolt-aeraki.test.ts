// The Aeraki sample for SOFA Bolt (test/controller/testdata/aeraki-bolt-protocol/input.yaml: an
// ApplicationProtocol and a MetaRouter as Aeraki writes them), translated by the controller and run as
// translated, with real Bolt peers: three Envoys stand for the three sidecars. The client's runs the
// EnvoyFilter's extension config (its Wasm filter config, name and root id as rendered; only the module
// is a local file instead of the OCI image) before Istio's outbound tcp_proxy with the EnvoyFilter's
// MERGE applied; the MetaRouter's subsets are its rendered clusters, each the inbound listener of one
// server pod's Envoy, which runs the WasmPlugin (the server side: the local rate limit) before Istio's
// inbound tcp_proxy to its Bolt server.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { BoltClient, peersClasspath, startBoltServer } from "../codec/bolt/peers";
import { clientSidecarBootstrap, clusterOfRoute, translatedSample, withServerPod } from "./aeraki_sidecars";
import { sumOf } from "../support/stats_tags";
import { repoRoot, withEnvoy } from "./envoy";

const sample = path.join(repoRoot, "test/controller/testdata/aeraki-bolt-protocol/input.yaml");
// Istio's names: the outbound listener's tcp_proxy goes to the service's subset-less cluster (every
// pod); an inbound listener's to inbound|<port>||.
const OUTBOUND_DEFAULT = "outbound|12200||bolt-server.meta-bolt.svc.cluster.local";
const INBOUND = "inbound|12200||";

test("Aeraki's Bolt ApplicationProtocol + MetaRouter, as translated, in three real Envoys with real Bolt peers: method route, header mutation, server-side local rate limit", { timeout: 180_000 }, async (t) => {
  const translated = await translatedSample(sample);
  const clusterOf = (route: string): string => clusterOfRoute(translated, route);
  const [V2, V1] = [clusterOf("echo-v2"), clusterOf("v1")];

  const classpath = peersClasspath();
  const [v1, v2] = await Promise.all([startBoltServer(classpath, "v1"), startBoltServer(classpath, "v2")]);
  t.after(() => { v1.kill(); v2.kill(); });
  const client = await BoltClient.start(classpath);
  t.after(() => client.kill());

  await withServerPod(translated.plugin, INBOUND, v1.port, (pod1, inbound1) => withServerPod(translated.plugin, INBOUND, v2.port, async (pod2, inbound2) => {
    const bootstrap = clientSidecarBootstrap(translated, OUTBOUND_DEFAULT, [[V1, inbound1], [V2, inbound2], [OUTBOUND_DEFAULT, inbound1]]);

    await withEnvoy({ bootstrap, concurrency: 2 }, async (sidecar) => {
      const port = await sidecar.listenerPort("outbound");

      // Connection 1: echo matches route echo-v2: subset v2, and the server sees the mutation's header.
      const echo = await client.call({ port, method: "echo", arg: "one", headers: { "x-user": "alice" }, close: true });
      assert.equal(echo.ok, true, JSON.stringify(echo));
      assert.match(echo.result!, /^v2:one \[/, "echo routed to v2");
      assert.match(echo.result!, /x-routed-by=meltemi/, "the MetaRouter's requestMutation reached the server");
      assert.match(echo.result!, /x-user=alice/, "the client's own header is kept");

      // Connection 2: `limited` falls to route v1; v1's pod admits maxTokens (2) within a fill interval
      // (10 s) and answers the next with SERVER_THREADPOOL_BUSY. Calls go on until the first refusal
      // (bounded): more than two admitted is right only if a fill interval went by (a slow machine).
      const started = Date.now();
      const admitted: string[] = [];
      let refused: Awaited<ReturnType<BoltClient["call"]>> | undefined;
      for (let i = 0; i < 6 && !refused; i++) {
        const r = await client.call({ port, method: "limited", arg: `l${i}` });
        if (r.ok) admitted.push(r.result!);
        else refused = r;
      }
      const elapsedMs = Date.now() - started;
      assert.ok(refused, `no call refused: ${JSON.stringify(admitted)}`);
      assert.deepEqual([refused.ok, refused.error], [false, "InvokeServerBusyException"], JSON.stringify(refused));
      assert.ok(admitted.length === 2 || elapsedMs >= 10_000, `${admitted.length} admitted in ${elapsedMs} ms, the bucket holds 2 per 10 s`);
      for (const r of admitted) {
        assert.match(r, /^v1:l\d /, "route v1");
        assert.doesNotMatch(r, /x-routed-by/, "route v1 has no mutation");
      }
      const after = await client.call({ port, method: "greet", arg: "still here", close: true });
      assert.equal(after.ok, true, JSON.stringify(after));
      assert.match(after.result!, /^v1:still here/, "the connection carries on after the refusal");

      // The refusal is the server pod's (the WasmPlugin), not the client sidecar's.
      const [sidecarStats, p1, p2] = await Promise.all([sidecar.prometheus(), pod1.prometheus(), pod2.prometheus()]);
      assert.equal(sumOf(sidecarStats, "meltemi_rejections_total"), 0);
      assert.equal(sumOf(p1, "meltemi_rejections_total"), 1);
      assert.equal(sumOf(p2, "meltemi_rejections_total"), 0);
      assert.equal(sumOf(sidecarStats, "meltemi_requests_total", { method: "limited" }), admitted.length + 1);
      assert.equal(sumOf(p1, "meltemi_requests_total", { method: "limited" }), admitted.length + 1);
      assert.equal(sumOf(p2, "meltemi_requests_total", { method: "echo" }), 1);
      assert.equal(await sidecar.stat(`cluster.${V2}.upstream_cx_total`), 1);
      assert.equal(await sidecar.stat(`cluster.${V1}.upstream_cx_total`), 1);
      assert.equal(await sidecar.stat(`cluster.${OUTBOUND_DEFAULT}.upstream_cx_total`), 0, "every connection was routed by the filter");
    });
  }));
});
