// tRPC through the real Envoy with the real trpc-go client and servers (test/peers/trpc): Meltemi
// (protocol trpc, perConnection: tRPC has no native Envoy router) in front of tcp_proxy, configured by
// the controller's translation (tcpProxyFilter). The first request of a connection picks its cluster
// (method route); the route's request mutation reaches the server as trans_info; an authorization
// denial, an abort fault and an over-limit call come back to the trpc-go client as callee framework
// errors with trpc-go's codes (RetServerAuthFail 41, RetServerSystemErr 31, RetServerThrottled 23),
// and the connection carries on; a oneway call is passed and never answered; a request over the
// frame limit gets RetServerDecodeFail (1) before the close; the request metric carries the protocol,
// service, method and status labels.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tcpProxyFilter } from "../../controller/translate/envoy/tcp_proxy";
import { NOTIFY, SERVICE, TrpcClient, type TrpcResult, startTrpcServer, trpcPeer } from "../codec/trpc/peers";
import { listenerBootstrap, staticCluster, wasmNetworkFilter } from "./bootstrap";
import { sumOf } from "../support/stats_tags";
import { withEnvoy } from "./envoy";

const V1 = "outbound|8000|v1|greeter.default.svc.cluster.local";
const V2 = "outbound|8000|v2|greeter.default.svc.cluster.local";
/** trpc-go's errs.ErrorTypeCalleeFramework: the error came in the answer's ret. */
const CALLEE_FRAMEWORK = 3;

const config = {
  version: 1,
  name: "greeter",
  protocol: "trpc",
  routingMode: "perConnection",
  limits: { maxFrameBytes: 2048 },
  routes: [
    { name: "hello-to-v2", match: { method: { exact: "Hello" }, "x-lane": { exact: "blue" } }, destinations: [{ cluster: V2 }], requestMutation: [{ key: "x-routed-by", value: "meltemi" }] },
    { name: "rest", destinations: [{ cluster: V1 }] },
  ],
  localRateLimit: { conditions: [{ match: { "x-tier": { exact: "limited" } }, tokenBucket: { maxTokens: 1, fillIntervalMs: 3600000 } }] },
  authorization: [{ name: "no-admin", action: "DENY", rules: [{ to: [{ methods: ["Admin"] }] }] }],
  faults: [{ match: { method: { exact: "Crash" } }, abort: { percent: 100, message: "chaos drill" } }],
};

const failedWith = (r: TrpcResult) => [r.ok, r.code, r.type];

test("a real trpc-go client through Envoy: routed by its first request, denial, fault and limit as tRPC framework errors, the connection lives on", { timeout: 180_000 }, async (t) => {
  const binary = trpcPeer();
  const [v1, v2] = await Promise.all([startTrpcServer(binary, "v1"), startTrpcServer(binary, "v2")]);
  t.after(() => { v1.kill(); v2.kill(); });
  const client = TrpcClient.start(binary);
  t.after(() => client.kill());

  const bootstrap = listenerBootstrap(
    [wasmNetworkFilter({ pluginConfig: config }), tcpProxyFilter({ statPrefix: "greeter", cluster: V1, earlyDataBytes: 65536 })],
    [staticCluster(V1, v1.port), staticCluster(V2, v2.port)],
  );

  await withEnvoy({ bootstrap, concurrency: 2 }, async (envoy) => {
    const port = await envoy.listenerPort("meltemi");
    const blue = { "x-lane": "blue" };

    // Connection 1: its first request (Hello, lane blue) picks v2, and every call after it stays there.
    const first = await client.call({ port, conn: "1", body: "one", meta: { ...blue, "x-user": "alice" } });
    assert.equal(first.ok, true, JSON.stringify(first));
    assert.equal(first.body, "v2:one:0 [x-lane=blue;x-routed-by=meltemi;x-user=alice]", "routed to v2; the server received the entry Meltemi added and the client's own");

    const denied = await client.call({ port, conn: "1", method: `/${SERVICE}/Admin`, body: "x" });
    assert.deepEqual(failedWith(denied), [false, 41, CALLEE_FRAMEWORK], JSON.stringify(denied));
    const aborted = await client.call({ port, conn: "1", method: `/${SERVICE}/Crash`, body: "x" });
    assert.deepEqual(failedWith(aborted), [false, 31, CALLEE_FRAMEWORK], JSON.stringify(aborted));
    assert.equal(aborted.msg, "chaos drill", "trpc-go shows the reply's error_msg");
    const allowed = await client.call({ port, conn: "1", body: "a", meta: { "x-tier": "limited" } });
    assert.equal(allowed.ok, true, JSON.stringify(allowed));
    assert.match(allowed.body!, /^v2:a:0 /, "the connection stays on v2");
    const limited = await client.call({ port, conn: "1", body: "b", meta: { "x-tier": "limited" } });
    assert.deepEqual(failedWith(limited), [false, 23, CALLEE_FRAMEWORK], JSON.stringify(limited));
    const after = await client.call({ port, conn: "1", body: "still here" });
    assert.equal(after.ok, true, JSON.stringify(after));
    assert.match(after.body!, /^v2:still here:0 /, "the same connection, still usable");

    // Connection 2: its first request, a oneway Notify, picks v1 (rest) and gets no answer; the next
    // call on the connection sees it counted by v1.
    const notify = await client.call({ port, conn: "2", method: NOTIFY, oneway: true, body: "n" });
    assert.equal(notify.ok, true, JSON.stringify(notify));
    const other = await client.call({ port, conn: "2", body: "two" });
    assert.equal(other.ok, true, JSON.stringify(other));
    assert.equal(other.body, "v1:two:1 []", "v1, the oneway call arrived, no mutation on rest");

    // Connection 3: a request over the frame limit is answered RetServerDecodeFail (identify + probe),
    // then the filter closes the connection.
    const big = await client.call({ port, conn: "3", body: "x".repeat(4096) });
    assert.deepEqual(failedWith(big), [false, 1, CALLEE_FRAMEWORK], JSON.stringify(big));
    const again = await client.call({ port, conn: "4", body: "three" });
    assert.equal(again.ok, true, JSON.stringify(again));
    assert.match(again.body!, /^v1:three:/);

    const stats = await envoy.prometheus();
    assert.equal(stats.get("meltemi_connections_total"), 4);
    assert.equal(sumOf(stats, "meltemi_requests_total"), 9, "the refused frame is not a request");
    assert.equal(sumOf(stats, "meltemi_rejections_total"), 3);
    assert.equal(sumOf(stats, "meltemi_requests_total", { method: "Hello" }), 6, "the request metric has the method label");
    const statusOf = (method: string, status: string) =>
      sumOf(stats, "meltemi_requests_total", { request_protocol: "trpc", rpc_service: SERVICE, rpc_method: method, rpc_status: status });
    assert.deepEqual(
      [statusOf("Hello", "ok"), statusOf("Hello", "over_limit"), statusOf("Admin", "unauthorized"), statusOf("Crash", "fault_abort"), statusOf("Notify", "oneway")],
      [5, 1, 1, 1, 1], "protocol, service (func's service part), method and status labels");
    assert.equal(await envoy.stat(`cluster.${V2}.upstream_cx_total`), 1);
    assert.equal(await envoy.stat(`cluster.${V1}.upstream_cx_total`), 3, "connection 2, the refused one (tcp_proxy's default cluster answers its probe), connection 4");
  });
});
