// perConnection mode for Thrift in the real Envoy: each new connection is routed by its first request
// (Meltemi sets envoy.tcp_proxy.cluster; tcp_proxy from the controller's translation, with early data),
// and stays there; a denied call on it comes back as a TApplicationException with Meltemi's message
// (its probe, an unknown-method call, is answered by the real server) and the connection lives on.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tcpProxyFilter } from "../../controller/translate/envoy/tcp_proxy";
import { WIRES, call, connect, generated, startServer } from "../codec/thrift/peers";
import { listenerBootstrap, staticCluster, wasmNetworkFilter } from "./bootstrap";
import { withEnvoy } from "./envoy";

const V1 = "outbound|9090|v1|greeter.default.svc.cluster.local";
const V2 = "outbound|9090|v2|greeter.default.svc.cluster.local";
const wire = WIRES.find((w) => w.name === "framed binary")!;

const config = {
  version: 1,
  name: "greeter",
  protocol: "thrift",
  routingMode: "perConnection",
  routes: [
    { name: "hello-to-v2", match: { method: { exact: "hello" } }, destinations: [{ cluster: V2 }] },
    { name: "rest-to-v1", destinations: [{ cluster: V1 }] },
  ],
  authorization: [{ name: "no-boom", action: "DENY", rules: [{ to: [{ methods: ["boom"] }] }] }],
};

test("perConnection, Thrift: the first request routes the connection; a denial does not break it", { timeout: 120_000 }, async (t) => {
  const { Greeter, types } = generated();
  const v1 = await startServer(wire, { greeting: "v1" });
  const v2 = await startServer(wire, { greeting: "v2" });
  t.after(async () => { await v1.close(); await v2.close(); });
  const bootstrap = listenerBootstrap(
    [
      wasmNetworkFilter({ pluginConfig: config }),
      tcpProxyFilter({ statPrefix: "greeter", cluster: V1, earlyDataBytes: 65536 }),
    ],
    [staticCluster(V1, v1.port), staticCluster(V2, v2.port)],
  );
  await withEnvoy({ bootstrap, concurrency: 2 }, async (envoy) => {
    const port = await envoy.listenerPort("meltemi");

    // First request `hello`: the whole connection goes to v2.
    const a = connect(port, wire);
    t.after(() => a.close());
    const greeterA = a.client(Greeter);
    assert.equal(await call<string>((cb) => greeterA.hello("a1", cb)), "v2 a1");
    await assert.rejects(call((cb) => greeterA.boom("x", cb)), (e: { message?: string }) => /meltemi: unauthorized \(no-boom\)/.test(e.message ?? ""));
    assert.equal(await call<string>((cb) => greeterA.hello("a2", cb)), "v2 a2");

    // First request `echo`: this connection goes to v1, and so do its later `hello` calls.
    const b = connect(port, wire);
    t.after(() => b.close());
    const greeterB = b.client(Greeter);
    const item = new types.Item({ id: 7, name: "seven" });
    assert.equal((await call<{ id: number }>((cb) => greeterB.echo(item, cb))).id, 7);
    assert.equal(await call<string>((cb) => greeterB.hello("b1", cb)), "v1 b1");

    assert.deepEqual([a.errors, b.errors], [[], []]);
    assert.equal(await envoy.stat(`cluster.${V2}.upstream_cx_total`), 1);
    assert.equal(await envoy.stat(`cluster.${V1}.upstream_cx_total`), 1);
  });
});
