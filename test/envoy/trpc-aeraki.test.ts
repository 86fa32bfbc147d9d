// The Aeraki sample for tRPC (test/controller/testdata/aeraki-trpc-protocol/input.yaml: an
// ApplicationProtocol and a MetaRouter as Aeraki writes them), translated by the controller and run as
// translated, with the real trpc-go client and servers: three Envoys stand for the three sidecars. The client's runs the
// EnvoyFilter's extension config (its Wasm filter config, name and root id as rendered; only the module
// is a local file instead of the OCI image) before Istio's outbound tcp_proxy with the EnvoyFilter's
// MERGE applied; the MetaRouter's subsets are its rendered clusters, each the inbound listener of one
// server pod's Envoy, which runs the WasmPlugin (the server side: the local rate limit) before Istio's
// inbound tcp_proxy to its trpc-go server. Then Aeraki's own published tRPC samples
// (test/controller/testdata/published/aeraki-metaprotocol-trpc: demo/metaprotocol-trpc as written,
// rendered by `meltemi render`'s code with a cluster's addresses) in the callers' sidecar: the demo's
// callee/version/func routes and traffic split.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { render } from "../../controller/render/render";
import { TEST_OPTIONS } from "../controller/support";
import { SERVICE, TrpcClient, type TrpcResult, startTrpcServer, trpcPeer } from "../codec/trpc/peers";
import { type ClientPatches, clientPatches, clientSidecarBootstrap, clusterOfRoute, translatedSample, withServerPod } from "./aeraki_sidecars";
import { sumOf } from "../support/stats_tags";
import { repoRoot, withEnvoy } from "./envoy";

const sample = path.join(repoRoot, "test/controller/testdata/aeraki-trpc-protocol/input.yaml");
// Istio's names: the outbound listener's tcp_proxy goes to the service's subset-less cluster (every
// pod); an inbound listener's to inbound|<port>||.
const OUTBOUND_DEFAULT = "outbound|8000||trpc-server.meta-trpc.svc.cluster.local";
const INBOUND = "inbound|8000||";
/** trpc-go's errs.ErrorTypeCalleeFramework: the error came in the answer's ret. */
const CALLEE_FRAMEWORK = 3;

test("Aeraki's tRPC ApplicationProtocol + MetaRouter, as translated, in three real Envoys with real trpc-go peers: callee/version/func route, trans_info mutation, server-side local rate limit", { timeout: 180_000 }, async (t) => {
  const translated = await translatedSample(sample);
  const clusterOf = (route: string): string => clusterOfRoute(translated, route);
  const [V2, V1] = [clusterOf("v2"), clusterOf("v1")];

  const binary = trpcPeer();
  const [v1, v2] = await Promise.all([startTrpcServer(binary, "v1"), startTrpcServer(binary, "v2")]);
  t.after(() => { v1.kill(); v2.kill(); });
  const client = TrpcClient.start(binary);
  t.after(() => client.kill());

  await withServerPod(translated.plugin, INBOUND, v1.port, (pod1, inbound1) => withServerPod(translated.plugin, INBOUND, v2.port, async (pod2, inbound2) => {
    const bootstrap = clientSidecarBootstrap(translated, OUTBOUND_DEFAULT, [[V1, inbound1], [V2, inbound2], [OUTBOUND_DEFAULT, inbound1]]);

    await withEnvoy({ bootstrap, concurrency: 2 }, async (sidecar) => {
      const port = await sidecar.listenerPort("outbound");

      // Connection 1: callee, trans_info version v2 and func Hello match route v2: subset v2, and the
      // server sees the mutation's entry (metarouter-header-mutation.yaml's foo=bar).
      const hello = await client.call({ port, conn: "1", body: "one", callee: SERVICE, meta: { version: "v2", "x-user": "alice" } });
      assert.equal(hello.ok, true, JSON.stringify(hello));
      assert.equal(hello.body, "v2:one:0 [foo=bar;version=v2;x-user=alice]", "routed to v2 with the MetaRouter's requestMutation");

      // Connection 2: version v1 falls to route v1; v1's pod admits maxTokens (2) within a fill
      // interval (10 s) of x-tier=limited and answers the next with RetServerThrottled (23). Calls go
      // on until the first refusal (bounded): more than two admitted is right only if a fill interval
      // went by (a slow machine).
      const started = Date.now();
      const admitted: string[] = [];
      let refused: TrpcResult | undefined;
      for (let i = 0; i < 6 && !refused; i++) {
        const r = await client.call({ port, conn: "2", body: `l${i}`, meta: { version: "v1", "x-tier": "limited" } });
        if (r.ok) admitted.push(r.body!);
        else refused = r;
      }
      const elapsedMs = Date.now() - started;
      assert.ok(refused, `no call refused: ${JSON.stringify(admitted)}`);
      assert.deepEqual([refused.ok, refused.code, refused.type], [false, 23, CALLEE_FRAMEWORK], JSON.stringify(refused));
      assert.ok(admitted.length === 2 || elapsedMs >= 10_000, `${admitted.length} admitted in ${elapsedMs} ms, the bucket holds 2 per 10 s`);
      for (const r of admitted) assert.match(r, /^v1:l\d:0 \[version=v1;x-tier=limited\]$/, "route v1, no mutation");
      const after = await client.call({ port, conn: "2", body: "still here", meta: { version: "v1" } });
      assert.equal(after.ok, true, JSON.stringify(after));
      assert.match(after.body!, /^v1:still here:/, "the connection carries on after the refusal");

      // The refusal is the server pod's (the WasmPlugin), not the client sidecar's.
      const [sidecarStats, p1, p2] = await Promise.all([sidecar.prometheus(), pod1.prometheus(), pod2.prometheus()]);
      assert.equal(sumOf(sidecarStats, "meltemi_rejections_total"), 0);
      assert.equal(sumOf(p1, "meltemi_rejections_total"), 1);
      assert.equal(sumOf(p2, "meltemi_rejections_total"), 0);
      assert.equal(sumOf(sidecarStats, "meltemi_requests_total", { method: "Hello" }), admitted.length + 3);
      assert.equal(sumOf(p1, "meltemi_requests_total", { method: "Hello" }), admitted.length + 2);
      assert.equal(sumOf(p2, "meltemi_requests_total", { method: "Hello" }), 1);
      assert.equal(await sidecar.stat(`cluster.${V2}.upstream_cx_total`), 1);
      assert.equal(await sidecar.stat(`cluster.${V1}.upstream_cx_total`), 1);
      assert.equal(await sidecar.stat(`cluster.${OUTBOUND_DEFAULT}.upstream_cx_total`), 0, "every connection was routed by the filter");
    });
  }));
});

// --- Aeraki's published demo/metaprotocol-trpc, unmodified ------------------------------------------

const PUBLISHED = path.join(repoRoot, "test/controller/testdata/published/aeraki-metaprotocol-trpc");
const DEMO_HOST = "trpc-sample-server.meta-trpc.svc.cluster.local";
const DEMO = (subset: string) => `outbound|8000|${subset}|${DEMO_HOST}`;
const DEMO_CALL = { callee: "trpc.test.helloworld", method: "/trpc.test.helloworld.Greeter/SayHello" };

/** The callers' EnvoyFilter as `meltemi render -n meta-trpc` writes it with a cluster's addresses (a VIP for the Service). */
async function renderedClient(sample: string): Promise<ClientPatches> {
  const r = await render({
    files: [path.join(PUBLISHED, "base"), path.join(PUBLISHED, sample)], output: "json", namespace: "meta-trpc", showStatus: true,
    options: TEST_OPTIONS, readStdin: async () => "",
    liveAddresses: async (p: string) => (p.startsWith("/api/v1/") ? { spec: { clusterIP: "10.96.0.7", clusterIPs: ["10.96.0.7"] } } : { spec: { addresses: ["240.240.0.7"] } }),
  });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stderr, /MetaRouter meta-trpc\/test-metaprotocol-trpc-route: Ready=True Accepted/);
  return clientPatches((JSON.parse(r.stdout).items as any[]).find((o) => o.kind === "EnvoyFilter"));
}

test("Aeraki's published tRPC MetaRouters (multi-route by trans_info version, traffic split), rendered and run in the callers' Envoy with real trpc-go peers", { timeout: 180_000 }, async (t) => {
  const binary = trpcPeer();
  const [v1, v2] = await Promise.all([startTrpcServer(binary, "v1"), startTrpcServer(binary, "v2")]);
  t.after(() => { v1.kill(); v2.kill(); });
  const client = TrpcClient.start(binary);
  t.after(() => client.kill());

  for (const sample of ["metarouter-multi-route.yaml", "traffic-split.yaml"]) {
    const bootstrap = clientSidecarBootstrap(await renderedClient(sample), `outbound|8000||${DEMO_HOST}`,
      [[DEMO("v1"), v1.port], [DEMO("v2"), v2.port], [`outbound|8000||${DEMO_HOST}`, v1.port]]);
    await withEnvoy({ bootstrap, concurrency: 1 }, async (sidecar) => {
      const port = await sidecar.listenerPort("outbound");
      if (sample === "metarouter-multi-route.yaml") {
        // The demo's client sets the trans_info field `version`; each value goes to its subset.
        for (const [i, version] of ["v2", "v1", "v2"].entries()) {
          const r = await client.call({ port, conn: `${sample}-${i}`, ...DEMO_CALL, body: "hi", meta: { version } });
          assert.equal(r.ok, true, JSON.stringify(r));
          assert.equal(r.body, `${version}:hi:0 [version=${version}]`, `version ${version} routed to subset ${version}`);
        }
      } else {
        // The route matches the demo client's caller name only: trpc-go's default caller gets no route,
        // answered RetServerNoFunc (12) as a callee framework error.
        const stranger = await client.call({ port, conn: `${sample}-stranger`, ...DEMO_CALL, body: "s" });
        assert.deepEqual([stranger.ok, stranger.code, stranger.type], [false, 12, CALLEE_FRAMEWORK], JSON.stringify(stranger));
        // 20/80 between v1 and v2, per connection (the first request picks): 40 connections, bounded.
        const seen = { v1: 0, v2: 0 };
        for (let i = 0; i < 40; i++) {
          const r = await client.call({ port, conn: `${sample}-${i}`, ...DEMO_CALL, caller: "trpc.app.trpc-client.service", body: "s" });
          assert.equal(r.ok, true, JSON.stringify(r));
          seen[r.body!.slice(0, 2) as "v1" | "v2"]++;
        }
        assert.ok(seen.v1 > 0 && seen.v2 > seen.v1, `weights 20/80: ${JSON.stringify(seen)}`);
      }
      const stats = await sidecar.prometheus();
      assert.equal(sumOf(stats, "meltemi_requests_total", { rpc_method: "SayHello", rpc_status: "ok" }), sample === "traffic-split.yaml" ? 40 : 3);
      const split = sample === "traffic-split.yaml";
      if (split) assert.equal(sumOf(stats, "meltemi_requests_total", { rpc_method: "SayHello", rpc_status: "no_route" }), 1);
      assert.equal(await sidecar.stat(`cluster.outbound|8000||${DEMO_HOST}.upstream_cx_total`), split ? 1 : 0,
        "every connection was routed by the filter (the no-route one's probe goes to tcp_proxy's own cluster)");
    });
  }
});
