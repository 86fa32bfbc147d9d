// SOFA Bolt through the real Envoy with real Bolt peers (test/peers/bolt): Meltemi (protocol bolt,
// perConnection: Bolt has no native Envoy router) in front of tcp_proxy, configured by the controller's
// translation (tcpProxyFilter). The first request of a connection picks its cluster (method route);
// the route's request mutation reaches the server as a header; an authorization denial, an abort fault
// and an over-limit call come back to the Bolt client as failed calls with Bolt's status for each
// (SERVER_EXCEPTION: InvokeServerException; SERVER_THREADPOOL_BUSY: InvokeServerBusyException), and
// the connection carries on; a request over the frame limit gets SERVER_DESERIAL_EXCEPTION before the
// close; the request metric carries the method label.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tcpProxyFilter } from "../../controller/translate/envoy/tcp_proxy";
import { BoltClient, peersClasspath, startBoltServer } from "../codec/bolt/peers";
import { listenerBootstrap, staticCluster, wasmNetworkFilter } from "./bootstrap";
import { sumOf } from "../support/stats_tags";
import { withEnvoy } from "./envoy";

const V1 = "outbound|12200|v1|greeter.default.svc.cluster.local";
const V2 = "outbound|12200|v2|greeter.default.svc.cluster.local";

const config = {
  version: 1,
  name: "greeter",
  protocol: "bolt",
  routingMode: "perConnection",
  limits: { maxFrameBytes: 2048 },
  routes: [
    { name: "echo-to-v2", match: { method: { exact: "echo" } }, destinations: [{ cluster: V2 }], requestMutation: [{ key: "x-routed-by", value: "meltemi" }] },
    { name: "rest", destinations: [{ cluster: V1 }] },
  ],
  localRateLimit: { conditions: [{ match: { method: { exact: "limited" } }, tokenBucket: { maxTokens: 1, fillIntervalMs: 3600000 } }] },
  authorization: [{ name: "no-admin", action: "DENY", rules: [{ to: [{ methods: ["admin"] }] }] }],
  faults: [{ match: { method: { exact: "crash" } }, abort: { percent: 100, message: "chaos drill" } }],
};

test("a real Bolt client through Envoy: routed by its first request, denial, fault and limit as Bolt error responses, the connection lives on", { timeout: 180_000 }, async (t) => {
  const classpath = peersClasspath();
  const [v1, v2] = await Promise.all([startBoltServer(classpath, "v1"), startBoltServer(classpath, "v2")]);
  t.after(() => { v1.kill(); v2.kill(); });
  const client = await BoltClient.start(classpath);
  t.after(() => client.kill());

  const bootstrap = listenerBootstrap(
    [wasmNetworkFilter({ pluginConfig: config }), tcpProxyFilter({ statPrefix: "greeter", cluster: V1, earlyDataBytes: 65536 })],
    [staticCluster(V1, v1.port), staticCluster(V2, v2.port)],
  );

  await withEnvoy({ bootstrap, concurrency: 2 }, async (envoy) => {
    const port = await envoy.listenerPort("meltemi");

    // Connection 1: its first request (echo) picks v2, and every call after it stays there.
    const first = await client.call({ port, method: "echo", arg: "one", headers: { "x-user": "alice" } });
    assert.equal(first.ok, true, JSON.stringify(first));
    assert.match(first.result!, /^v2:one \[/, "echo routed to v2");
    assert.match(first.result!, /x-routed-by=meltemi/, "the server received the header Meltemi added");
    assert.match(first.result!, /x-user=alice/, "the client's own header is kept");

    const denied = await client.call({ port, method: "admin", arg: "x" });
    assert.deepEqual([denied.ok, denied.error], [false, "InvokeServerException"], JSON.stringify(denied));
    const aborted = await client.call({ port, method: "crash", arg: "x" });
    assert.deepEqual([aborted.ok, aborted.error], [false, "InvokeServerException"], JSON.stringify(aborted));
    const allowed = await client.call({ port, method: "limited", arg: "a" });
    assert.equal(allowed.ok, true, JSON.stringify(allowed));
    assert.match(allowed.result!, /^v2:a /, "the connection stays on v2");
    const limited = await client.call({ port, method: "limited", arg: "b" });
    assert.deepEqual([limited.ok, limited.error], [false, "InvokeServerBusyException"], JSON.stringify(limited));
    const after = await client.call({ port, method: "echo", arg: "still here", close: true });
    assert.equal(after.ok, true, JSON.stringify(after));
    assert.match(after.result!, /^v2:still here/);

    // Connection 2: its first request (greet) picks v1.
    const other = await client.call({ port, method: "greet", arg: "two", close: true });
    assert.equal(other.ok, true, JSON.stringify(other));
    assert.match(other.result!, /^v1:two \[/);
    assert.doesNotMatch(other.result!, /x-routed-by/, "the rest route has no mutation");

    // Connection 3: a request over the frame limit is answered SERVER_DESERIAL_EXCEPTION (identify +
    // probe), then the filter closes the connection (the client drops it too: it would race the close).
    const big = await client.call({ port, method: "greet", arg: "x".repeat(4096), close: true });
    assert.deepEqual([big.ok, big.error], [false, "DeserializationException"], JSON.stringify(big));
    const again = await client.call({ port, method: "greet", arg: "three", close: true });
    assert.equal(again.ok, true, JSON.stringify(again));

    const stats = await envoy.prometheus();
    assert.equal(stats.get("meltemi_connections_total"), 4);
    assert.equal(sumOf(stats, "meltemi_requests_total"), 8, "the refused frame is not a request");
    assert.equal(sumOf(stats, "meltemi_rejections_total"), 3);
    assert.equal(sumOf(stats, "meltemi_requests_total", { method: "echo" }), 2, "the request metric has the method label");
    assert.equal(sumOf(stats, "meltemi_requests_total", { method: "limited" }), 2);
    assert.equal(await envoy.stat(`cluster.${V2}.upstream_cx_total`), 1);
    assert.equal(await envoy.stat(`cluster.${V1}.upstream_cx_total`), 3, "connection 2, the refused one (tcp_proxy's default cluster answers its probe), connection 4");
  });
});
