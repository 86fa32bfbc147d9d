// perRequest mode in the real Envoy: Meltemi decides per request and writes the routing key; Envoy's
// native dubbo_proxy, configured by the controller's translation (dubboProxyFilter), forwards each
// request of ONE real Dubbo consumer connection to the cluster Meltemi picked. A denied call comes back
// as a failed call with Meltemi's message; the calls after it on the connection work. A route's response
// mutation reaches the consumer as response attachments.
import { test } from "node:test";
import assert from "node:assert/strict";
import { dubboProxyFilter } from "../../controller/translate/envoy/dubbo_proxy";
import { Consumer, peersClasspath, startProvider } from "../codec/dubbo/peers";
import { listenerBootstrap, staticCluster, wasmNetworkFilter } from "./bootstrap";
import { withEnvoy } from "./envoy";
import { assertShareNear, withSeed } from "./share";

const V1 = "outbound|20880|v1|greeter.default.svc.cluster.local";
const V2 = "outbound|20880|v2|greeter.default.svc.cluster.local";

const config = {
  version: 1,
  name: "greeter",
  protocol: "dubbo",
  routingMode: "perRequest",
  routes: [
    { name: "vip-to-v1", match: { method: { exact: "echo" }, "x-user": { prefix: "vip-" } }, destinations: [{ cluster: V1 }] },
    { name: "echo-to-v2", match: { method: { exact: "echo" } }, destinations: [{ cluster: V2 }], responseMutation: [{ key: "x-served-via", value: "meltemi-v2" }] },
    { name: "rest-to-v1", destinations: [{ cluster: V1 }] },
  ],
  authorization: [{ name: "no-fail", action: "DENY", rules: [{ to: [{ methods: ["fail"] }] }] }],
};

const split = {
  version: 1,
  name: "greeter-split",
  protocol: "dubbo",
  routingMode: "perRequest",
  routes: [{ name: "canary", destinations: [{ cluster: V1, weight: 80 }, { cluster: V2, weight: 20 }] }],
};

function perRequestBootstrap(pluginConfig: object, p1: number, p2: number): object {
  return listenerBootstrap(
    [
      wasmNetworkFilter({ pluginConfig }),
      dubboProxyFilter({ statPrefix: "greeter", routeConfigName: "greeter", clusters: [V1, V2] }),
    ],
    [staticCluster(V1, p1), staticCluster(V2, p2)],
  );
}

test("perRequest: a 20/80 split over 2000 requests on one connection lands within 5 points", async (t) => {
  const classpath = peersClasspath();
  const [p1, p2] = await Promise.all([startProvider(classpath), startProvider(classpath)]);
  t.after(() => { p1.process.kill(); p2.process.kill(); });
  const consumer = await Consumer.start(classpath);
  t.after(() => consumer.kill());
  await withEnvoy({ bootstrap: perRequestBootstrap(withSeed(t, split), p1.port, p2.port), concurrency: 2 }, async (envoy) => {
    const port = await envoy.listenerPort("meltemi");
    const N = 2000;
    let toV2 = 0;
    for (let i = 0; i < N; i++) {
      const r = await consumer.call({ port, method: "echo", arg: String(i), timeout: 5000 });
      assert.equal(r.ok, true, JSON.stringify(r));
      if (JSON.stringify(r.result).includes(V2)) toV2++;
    }
    assertShareNear("calls routed to v2", toV2, N, 20);
    assert.equal((await envoy.prometheus()).get("meltemi_connections_total"), 1, "one downstream connection");
    assert.equal(await envoy.stat(`cluster.${V2}.upstream_rq_total`), toV2, "dubbo_proxy forwarded where Meltemi chose");
    assert.equal(await envoy.stat(`cluster.${V1}.upstream_rq_total`), N - toV2);
  });
});

test("perRequest: one real Dubbo connection, each request forwarded by dubbo_proxy to the cluster Meltemi chose (by method and by attachment)", async (t) => {
  const classpath = peersClasspath();
  const [p1, p2] = await Promise.all([startProvider(classpath), startProvider(classpath)]);
  t.after(() => { p1.process.kill(); p2.process.kill(); });
  const consumer = await Consumer.start(classpath);
  t.after(() => consumer.kill());

  await withEnvoy({ bootstrap: perRequestBootstrap(config, p1.port, p2.port), concurrency: 2 }, async (envoy) => {
    const port = await envoy.listenerPort("meltemi");
    const echo = await consumer.call({ port, method: "echo", arg: "to v2", timeout: 5000 });
    assert.equal(echo.ok, true, JSON.stringify(echo));
    assert.match(JSON.stringify(echo.result), new RegExp(`x-meltemi-cluster[^,]*${V2.replace(/\|/g, "\\|")}`), "the provider saw the routing key");
    // The route's response mutation, added behind dubbo_proxy: the consumer reads it as a response attachment.
    assert.equal(echo.responseAttachments?.["x-served-via"], "meltemi-v2", JSON.stringify(echo));
    assert.ok(echo.responseAttachments?.["served-by"] !== undefined, "the provider's own response attachment is kept");
    const nothing = await consumer.call({ port, method: "nothing", timeout: 5000 });
    assert.equal(nothing.ok, true, JSON.stringify(nothing));
    assert.equal(nothing.responseAttachments?.["x-served-via"], undefined, "another route's answer is not mutated");
    const denied = await consumer.call({ port, method: "fail", arg: "x", timeout: 5000 });
    assert.equal(denied.ok, false);
    assert.match(`${denied.message} ${denied.rootMessage}`, /meltemi: unauthorized \(no-fail\)/);
    const again = await consumer.call({ port, method: "echo", arg: "again", timeout: 5000 });
    assert.equal(again.ok, true, JSON.stringify(again));
    const vip = await consumer.call({ port, method: "echo", arg: "vip", timeout: 5000, attachments: { "x-user": "vip-42" } });
    assert.equal(vip.ok, true, JSON.stringify(vip));
    assert.match(JSON.stringify(vip.result), new RegExp(`x-meltemi-cluster[^,]*${V1.replace(/\|/g, "\\|")}`), "routed by the attachment");

    assert.equal((await envoy.prometheus()).get("meltemi_connections_total"), 1, "one downstream connection");
    assert.ok((await envoy.stat(`cluster.${V2}.upstream_cx_total`))! >= 1, "echo went to v2");
    assert.ok((await envoy.stat(`cluster.${V1}.upstream_cx_total`))! >= 1, "nothing went to v1");
    assert.equal(await envoy.stat(`cluster.${V2}.upstream_rq_total`), 2, "both plain echo calls went to v2");
    assert.equal(await envoy.stat(`cluster.${V1}.upstream_rq_total`), 2, "nothing and the vip echo went to v1");
    // The denied call reached dubbo_proxy as a heartbeat probe, which it answers itself.
    assert.equal(await envoy.stat("dubbo.greeter.request_event"), 1);
  });
});
