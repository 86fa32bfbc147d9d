// perRequest mode for Thrift in the real Envoy: real Apache Thrift clients (npm thrift) call real
// Thrift servers through Meltemi + Envoy's native thrift_proxy, whose route table comes from the
// controller's translation (thriftProxyFilter). On ONE connection per wire: a 20/80 split over 2000
// calls lands within 5 points; a denied call comes back as a TApplicationException with Meltemi's
// message (its probe is routed, since thrift_proxy closes the connection on "no route"); the calls
// after it work. Method-based routes send each call of one connection to its method's cluster.
import { test } from "node:test";
import assert from "node:assert/strict";
import { thriftProxyFilter } from "../../controller/translate/envoy/thrift_proxy";
import { WIRES, call, connect, generated, startServer } from "../codec/thrift/peers";
import { listenerBootstrap, staticCluster, wasmNetworkFilter } from "./bootstrap";
import { withEnvoy } from "./envoy";
import { assertShareNear, withSeed } from "./share";

const V1 = "outbound|9090|v1|greeter.default.svc.cluster.local";
const V2 = "outbound|9090|v2|greeter.default.svc.cluster.local";

const config = {
  version: 1,
  name: "greeter",
  protocol: "thrift",
  routingMode: "perRequest",
  routes: [{ name: "canary", destinations: [{ cluster: V1, weight: 80 }, { cluster: V2, weight: 20 }] }],
  authorization: [{ name: "no-boom", action: "DENY", rules: [{ to: [{ methods: ["boom"] }] }] }],
};

for (const wire of WIRES.filter((w) => w.name === "framed binary" || w.name === "buffered compact")) {
  test(`perRequest, ${wire.name}: 20/80 over 2000 calls on one connection, a denied call, and the connection lives on`, { timeout: 180_000 }, async (t) => {
    const { Greeter } = generated();
    const v1 = await startServer(wire, { greeting: "v1" });
    const v2 = await startServer(wire, { greeting: "v2" });
    t.after(async () => { await v1.close(); await v2.close(); });
    const bootstrap = listenerBootstrap(
      [
        wasmNetworkFilter({ pluginConfig: withSeed(t, config) }),
        thriftProxyFilter({ statPrefix: "greeter", routeConfigName: "greeter", clusters: [V1, V2] }),
      ],
      [staticCluster(V1, v1.port), staticCluster(V2, v2.port)],
    );
    await withEnvoy({ bootstrap, concurrency: 2 }, async (envoy) => {
      const client = connect(await envoy.listenerPort("meltemi"), wire);
      t.after(() => client.close());
      const greeter = client.client(Greeter);
      const N = 2000;
      let toV2 = 0;
      for (let i = 0; i < N; i++) {
        const reply = await call<string>((cb) => greeter.hello(`n${i}`, cb));
        assert.match(reply, new RegExp(`^v[12] n${i}$`));
        if (reply.startsWith("v2")) toV2++;
      }
      assertShareNear("calls routed to v2", toV2, N, 20);

      await assert.rejects(call((cb) => greeter.boom("x", cb)), (e: { message?: string }) => /meltemi: unauthorized \(no-boom\)/.test(e.message ?? ""));
      assert.match(await call<string>((cb) => greeter.hello("after", cb)), /^v[12] after$/);

      assert.deepEqual(client.errors, []);
      assert.equal((await envoy.prometheus()).get("meltemi_connections_total"), 1, "one downstream connection");
      const rq = async (c: string) => (await envoy.stat(`cluster.${c}.upstream_rq_total`)) ?? 0;
      const [rq1, rq2] = [await rq(V1), await rq(V2)];
      // thrift_proxy forwarded where Meltemi chose; the denied call's probe went to one of them too.
      assert.ok(rq2 === toV2 || rq2 === toV2 + 1, `v2 upstream requests ${rq2}, Meltemi chose v2 ${toV2} times`);
      assert.equal(rq1 + rq2, N + 2, "every call (and the probe) went upstream");
    });
  });
}

const byMethod = {
  version: 1,
  name: "greeter-by-method",
  protocol: "thrift",
  routingMode: "perRequest",
  routes: [
    { name: "echo-to-v2", match: { method: { exact: "echo" } }, destinations: [{ cluster: V2 }] },
    { name: "rest-to-v1", destinations: [{ cluster: V1 }] },
  ],
};

test("perRequest, framed binary: method-based routing sends each call of one connection to its method's cluster", { timeout: 120_000 }, async (t) => {
  const wire = WIRES.find((w) => w.name === "framed binary")!;
  const { Greeter, types } = generated();
  const v1 = await startServer(wire, { greeting: "v1" });
  const v2 = await startServer(wire, { greeting: "v2" });
  t.after(async () => { await v1.close(); await v2.close(); });
  const bootstrap = listenerBootstrap(
    [
      wasmNetworkFilter({ pluginConfig: byMethod }),
      thriftProxyFilter({ statPrefix: "greeter", routeConfigName: "greeter", clusters: [V1, V2] }),
    ],
    [staticCluster(V1, v1.port), staticCluster(V2, v2.port)],
  );
  await withEnvoy({ bootstrap, concurrency: 2 }, async (envoy) => {
    const client = connect(await envoy.listenerPort("meltemi"), wire);
    t.after(() => client.close());
    const greeter = client.client(Greeter);
    const N = 100;
    for (let i = 0; i < N; i++) {
      assert.equal(await call<string>((cb) => greeter.hello(`n${i}`, cb)), `v1 n${i}`, "hello is served by v1");
      const item = await call<{ id: number; name: string }>((cb) => greeter.echo(new types.Item({ id: i, name: `item ${i}` }), cb));
      assert.equal(item.name, `item ${i}`);
    }
    assert.deepEqual(client.errors, []);
    assert.equal((await envoy.prometheus()).get("meltemi_connections_total"), 1, "one downstream connection");
    assert.equal(await envoy.stat(`cluster.${V1}.upstream_rq_total`), N, "every hello went to v1");
    assert.equal(await envoy.stat(`cluster.${V2}.upstream_rq_total`), N, "every echo went to v2");
  });
});
