// Abort faults in the real Envoy, in both routing modes (perRequest: Meltemi in front of the native
// router; perConnection: in front of tcp_proxy), with real peers: 30% of the calls on ONE connection
// are aborted. Each aborted call reaches the client as the protocol's error reply with the configured
// message (Thrift: a TApplicationException of type INTERNAL_ERROR; Dubbo: a failed call, status
// SERVICE_ERROR), every other call succeeds, the share of aborts over 1000 calls lies within 5 points of
// 30%, and the connection carries all of them. Envoy configuration from the controller's translation.
import { type TestContext, test } from "node:test";
import assert from "node:assert/strict";
import { dubboProxyFilter } from "../../controller/translate/envoy/dubbo_proxy";
import { tcpProxyFilter } from "../../controller/translate/envoy/tcp_proxy";
import { thriftProxyFilter } from "../../controller/translate/envoy/thrift_proxy";
import { Consumer, peersClasspath, startProvider } from "../codec/dubbo/peers";
import { WIRES, call, connect, generated, startServer, thrift } from "../codec/thrift/peers";
import { listenerBootstrap, staticCluster, wasmNetworkFilter } from "./bootstrap";
import { withEnvoy } from "./envoy";
import { assertShareNear, withSeed } from "./share";

const N = 1000;
const PERCENT = 30;
const MESSAGE = "chaos drill: greeter unavailable";

type Mode = "perRequest" | "perConnection";
const MODES: Mode[] = ["perRequest", "perConnection"];

function faultConfig(protocol: "thrift" | "dubbo", mode: Mode, cluster: string): object {
  return {
    version: 1,
    name: `greeter-faults-${protocol}`,
    protocol,
    routingMode: mode,
    routes: [{ name: "all", destinations: [{ cluster }] }],
    faults: [{ abort: { percent: PERCENT, message: MESSAGE } }],
  };
}

/** The filter chain for `mode`: Meltemi (seeded for `t`), then the native router (perRequest) or tcp_proxy (perConnection). */
function filters(t: TestContext, protocol: "thrift" | "dubbo", mode: Mode, cluster: string): object[] {
  const native = protocol === "thrift" ? thriftProxyFilter : dubboProxyFilter;
  return [
    wasmNetworkFilter({ pluginConfig: withSeed(t, faultConfig(protocol, mode, cluster)) }),
    mode === "perRequest"
      ? native({ statPrefix: "greeter", routeConfigName: "greeter", clusters: [cluster] })
      : tcpProxyFilter({ statPrefix: "greeter", cluster, earlyDataBytes: 65536 }),
  ];
}

for (const mode of MODES) test(`Thrift ${mode}: an abort fault of ${PERCENT}% over ${N} calls on one connection`, { timeout: 180_000 }, async (t) => {
  const CLUSTER = "outbound|9090||greeter.default.svc.cluster.local";
  const wire = WIRES.find((w) => w.name === "framed binary")!;
  const { Greeter } = generated();
  const server = await startServer(wire, { greeting: "hi" });
  t.after(() => server.close());
  const bootstrap = listenerBootstrap(filters(t, "thrift", mode, CLUSTER), [staticCluster(CLUSTER, server.port)]);
  await withEnvoy({ bootstrap, concurrency: 2 }, async (envoy) => {
    const client = connect(await envoy.listenerPort("meltemi"), wire);
    t.after(() => client.close());
    const greeter = client.client(Greeter);
    let aborted = 0;
    for (let i = 0; i < N; i++) {
      try {
        assert.equal(await call<string>((cb) => greeter.hello(`n${i}`, cb)), `hi n${i}`);
      } catch (e) {
        const x = e as { name?: string; type?: number; message?: string };
        assert.equal(x.name, "TApplicationException", `call ${i}: ${String(e)}`);
        assert.equal(x.type, thrift.Thrift.TApplicationExceptionType.INTERNAL_ERROR, `call ${i}`);
        assert.equal(x.message, MESSAGE, `call ${i}`);
        aborted++;
      }
    }
    t.diagnostic(`aborted ${aborted} of ${N} calls`);
    assertShareNear("aborted calls", aborted, N, PERCENT);
    assert.deepEqual(client.errors, []);
    const stats = await envoy.prometheus();
    assert.equal(stats.get("meltemi_connections_total"), 1, "one downstream connection");
    assert.equal(stats.get("meltemi_active_connections"), 1, "and it is still open");
    assert.equal(await envoy.wasmStatTotal("meltemi_rejections_total"), aborted);
  });
});

for (const mode of MODES) test(`Dubbo ${mode}: an abort fault of ${PERCENT}% over ${N} calls on one connection`, { timeout: 300_000 }, async (t) => {
  const CLUSTER = "outbound|20880||greeter.default.svc.cluster.local";
  const classpath = peersClasspath();
  const provider = await startProvider(classpath);
  t.after(() => provider.process.kill());
  const consumer = await Consumer.start(classpath);
  t.after(() => consumer.kill());
  const bootstrap = listenerBootstrap(filters(t, "dubbo", mode, CLUSTER), [staticCluster(CLUSTER, provider.port)]);
  await withEnvoy({ bootstrap, concurrency: 2 }, async (envoy) => {
    const port = await envoy.listenerPort("meltemi");
    let aborted = 0;
    for (let i = 0; i < N; i++) {
      // retries=0: a Dubbo consumer would otherwise retry the failed call (and draw again).
      const r = await consumer.call({ port, method: "echo", arg: `n${i}`, timeout: 5000, retries: 0 });
      if (r.ok) {
        assert.match(JSON.stringify(r.result), new RegExp(`n${i}\\b`), `call ${i}`);
        continue;
      }
      // Dubbo 3.3 turns an error status into a RemotingException carrying the reply's message.
      assert.equal(r.rootClass, "org.apache.dubbo.remoting.RemotingException", `call ${i}: ${JSON.stringify(r)}`);
      assert.equal(r.rootMessage, MESSAGE, `call ${i}`);
      aborted++;
    }
    t.diagnostic(`aborted ${aborted} of ${N} calls`);
    assertShareNear("aborted calls", aborted, N, PERCENT);
    const stats = await envoy.prometheus();
    assert.equal(stats.get("meltemi_connections_total"), 1, "one downstream connection");
    assert.equal(stats.get("meltemi_active_connections"), 1, "and it is still open");
    assert.equal(await envoy.wasmStatTotal("meltemi_rejections_total"), aborted);
    if (mode === "perRequest") {
      // Aborted calls reached dubbo_proxy as heartbeat probes (answered by Envoy); the others the provider.
      assert.equal(await envoy.stat("dubbo.greeter.request_event"), aborted);
      assert.equal(await envoy.stat(`cluster.${CLUSTER}.upstream_rq_total`), N - aborted);
    }
  });
});
