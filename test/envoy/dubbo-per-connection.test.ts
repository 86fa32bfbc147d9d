// Per-request decisions on ONE real Dubbo connection through the real Envoy: a real Apache Dubbo
// consumer calls two real providers through Meltemi (protocol dubbo, perConnection mode) in front of
// tcp_proxy, whose configuration comes from the controller's translation (tcpProxyFilter). The first
// request picks the connection's cluster; a denied call and an over-limit call come back to the
// consumer as failed calls carrying Meltemi's message; the calls after them on the same connection work.
// The route's request and response mutations reach the provider and the consumer as attachments.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tcpProxyFilter } from "../../controller/translate/envoy/tcp_proxy";
import { Consumer, peersClasspath, startProvider } from "../codec/dubbo/peers";
import { listenerBootstrap, staticCluster, wasmNetworkFilter } from "./bootstrap";
import { sumOf } from "../support/stats_tags";
import { withEnvoy } from "./envoy";

const V1 = "outbound|20880|v1|greeter.default.svc.cluster.local";
const V2 = "outbound|20880|v2|greeter.default.svc.cluster.local";

const config = {
  version: 1,
  name: "greeter",
  protocol: "dubbo",
  routingMode: "perConnection",
  routes: [
    { name: "echo-to-v2", match: { method: { exact: "echo" } }, destinations: [{ cluster: V2 }], requestMutation: [{ key: "x-routed-by", value: "meltemi" }], responseMutation: [{ key: "x-served-via", value: "meltemi" }] },
    { name: "rest", destinations: [{ cluster: V1 }] },
  ],
  localRateLimit: { conditions: [{ match: { method: { exact: "nothing" } }, tokenBucket: { maxTokens: 1, fillIntervalMs: 3600000 } }] },
  authorization: [{ name: "no-fail", action: "DENY", rules: [{ to: [{ methods: ["fail"] }] }] }],
};

test("a real Dubbo consumer through Envoy: routed by its first request, rejections as failed calls, the connection lives on", async (t) => {
  const classpath = peersClasspath();
  const [p1, p2] = await Promise.all([startProvider(classpath), startProvider(classpath)]);
  t.after(() => { p1.process.kill(); p2.process.kill(); });
  const consumer = await Consumer.start(classpath);
  t.after(() => consumer.kill());

  const bootstrap = listenerBootstrap(
    [
      wasmNetworkFilter({ pluginConfig: config }),
      tcpProxyFilter({ statPrefix: "greeter", cluster: V1, earlyDataBytes: 65536 }),
    ],
    [staticCluster(V1, p1.port), staticCluster(V2, p2.port)],
  );

  await withEnvoy({ bootstrap, concurrency: 2 }, async (envoy) => {
    const port = await envoy.listenerPort("meltemi");

    const first = await consumer.call({ port, method: "echo", arg: "one", timeout: 5000 });
    assert.equal(first.ok, true, JSON.stringify(first));
    assert.match(JSON.stringify(first.result), /x-routed-by/, "the provider received the attachment Meltemi added");
    assert.equal(first.responseAttachments?.["x-served-via"], "meltemi", `the consumer received the response attachment Meltemi added: ${JSON.stringify(first)}`);

    const denied = await consumer.call({ port, method: "fail", arg: "boom", timeout: 5000 });
    assert.equal(denied.ok, false);
    assert.match(`${denied.message} ${denied.rootMessage}`, /meltemi: unauthorized \(no-fail\)/);

    const allowed = await consumer.call({ port, method: "nothing", timeout: 5000 });
    assert.equal(allowed.ok, true, JSON.stringify(allowed));
    const limited = await consumer.call({ port, method: "nothing", timeout: 5000 });
    assert.equal(limited.ok, false);
    assert.match(`${limited.message} ${limited.rootMessage}`, /meltemi: rate limit exceeded/);

    const after = await consumer.call({ port, method: "echo", arg: "still here", timeout: 5000 });
    assert.equal(after.ok, true, JSON.stringify(after));
    assert.match(JSON.stringify(after.result), /still here/);

    const stats = await envoy.prometheus();
    assert.equal(stats.get("meltemi_connections_total"), 1, "every call used one connection");
    assert.equal(sumOf(stats, "meltemi_requests_total"), 5);
    assert.equal(sumOf(stats, "meltemi_rejections_total"), 2);
    // Cluster names hold dots, which Envoy's default tag extraction splits: read the plain stat.
    assert.equal(await envoy.stat(`cluster.${V2}.upstream_cx_total`), 1, "the first request (echo) picked v2 for the connection");
    assert.equal(await envoy.stat(`cluster.${V1}.upstream_cx_total`), 0);
  });
});
