// Thrift traffic mirroring in the real Envoy (a MetaRouter mirror, translated into thrift_proxy's
// request_mirror_policies by the controller's thriftProxyFilter): real Apache Thrift clients call through
// Meltemi + thrift_proxy; every call is answered by the routed cluster (v1) and a copy reaches the mirror
// (v2), whose server dispatches it by the original method name (the routing key is stripped from the
// copy too) and whose replies never reach the client.
import { test } from "node:test";
import assert from "node:assert/strict";
import { thriftProxyFilter } from "../../controller/translate/envoy/thrift_proxy";
import { WIRES, call, connect, generated, startServer } from "../codec/thrift/peers";
import { until } from "../wait";
import { listenerBootstrap, staticCluster, wasmNetworkFilter } from "./bootstrap";
import { withEnvoy } from "./envoy";

const V1 = "outbound|9090|v1|greeter.default.svc.cluster.local";
const V2 = "outbound|9090|v2|greeter.default.svc.cluster.local";

const config = {
  version: 1,
  name: "greeter",
  protocol: "thrift",
  routingMode: "perRequest",
  routes: [{ name: "mirrored", destinations: [{ cluster: V1 }] }],
};

test("perRequest, framed binary: thrift_proxy mirrors every call routed to v1 onto v2; the client only sees v1", { timeout: 120_000 }, async (t) => {
  const wire = WIRES.find((w) => w.name === "framed binary")!;
  const { Greeter } = generated();
  const v1 = await startServer(wire, { greeting: "v1" });
  const v2 = await startServer(wire, { greeting: "v2" });
  t.after(async () => { await v1.close(); await v2.close(); });
  const bootstrap = listenerBootstrap(
    [
      wasmNetworkFilter({ pluginConfig: config }),
      thriftProxyFilter({ statPrefix: "greeter", routeConfigName: "greeter", clusters: [V1], mirrors: new Map([[V1, { cluster: V2 }]]) }),
    ],
    [staticCluster(V1, v1.port), staticCluster(V2, v2.port)],
  );
  await withEnvoy({ bootstrap, concurrency: 1 }, async (envoy) => {
    const client = connect(await envoy.listenerPort("meltemi"), wire);
    t.after(() => client.close());
    const greeter = client.client(Greeter);
    const N = 20;
    for (let i = 0; i < N; i++) assert.equal(await call<string>((cb) => greeter.hello(`n${i}`, cb)), `v1 n${i}`, "answered by v1 only");
    // One-way calls: both servers record them, so the copy's method name is checked by v2's dispatch.
    for (let i = 0; i < 5; i++) greeter.notify(`note ${i}`, () => {});
    await until("v1 got the notes", () => v1.notes.length === 5);
    await until("the mirror got copies of the notes", () => v2.notes.length === 5);
    assert.deepEqual(v2.notes, v1.notes);
    await until("the mirror got a copy of every hello", async () => ((await envoy.stat(`cluster.${V2}.upstream_rq_total`)) ?? 0) >= N + 5);
    assert.equal(await envoy.stat(`cluster.${V1}.upstream_rq_total`), N + 5);
    assert.deepEqual(client.errors, []);
  });
});
