// Delay faults in the real Envoy with real Thrift peers, in both routing modes: a delay of DELAY_MS for
// PERCENT% of the calls on ONE connection. The filter holds the connection (Pause) and its root's tick
// continues it when the delay is over (proxy_set_effective_context + proxy_continue_stream). The client
// sees at least the filter's delayed calls take the delay, every call succeeds, and the connection stays
// open. Calls are sequential: a delay also holds later requests of the same connection (README).
// No upper bound on a duration is asserted (a loaded machine only makes calls slower); the exact timing
// of a delay is tested on the Node host's virtual clock (test/filter/fault-delay.test.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { tcpProxyFilter } from "../../controller/translate/envoy/tcp_proxy";
import { thriftProxyFilter } from "../../controller/translate/envoy/thrift_proxy";
import { WIRES, call, connect, generated, startServer } from "../codec/thrift/peers";
import { listenerBootstrap, staticCluster, wasmNetworkFilter } from "./bootstrap";
import { withEnvoy } from "./envoy";
import { assertShareNear, withSeed } from "./share";

const N = 1000;
const PERCENT = 20;
const DELAY_MS = 50;
const CLUSTER = "outbound|9090||greeter.default.svc.cluster.local";

type Mode = "perRequest" | "perConnection";

for (const mode of ["perRequest", "perConnection"] as Mode[]) test(`Thrift ${mode}: a delay fault of ${DELAY_MS} ms for ${PERCENT}% of ${N} calls on one connection`, { timeout: 240_000 }, async (t) => {
  const wire = WIRES.find((w) => w.name === "framed binary")!;
  const { Greeter } = generated();
  const server = await startServer(wire, { greeting: "hi" });
  t.after(() => server.close());
  const config = {
    version: 1, name: "greeter-delay", protocol: "thrift", routingMode: mode,
    routes: [{ name: "all", destinations: [{ cluster: CLUSTER }] }],
    faults: [{ delay: { percent: PERCENT, fixedDelayMs: DELAY_MS } }],
  };
  const filters = [
    wasmNetworkFilter({ pluginConfig: withSeed(t, config) }),
    mode === "perRequest"
      ? thriftProxyFilter({ statPrefix: "greeter", routeConfigName: "greeter", clusters: [CLUSTER] })
      : tcpProxyFilter({ statPrefix: "greeter", cluster: CLUSTER, earlyDataBytes: 65536 }),
  ];
  await withEnvoy({ bootstrap: listenerBootstrap(filters, [staticCluster(CLUSTER, server.port)]), concurrency: 2 }, async (envoy) => {
    const client = connect(await envoy.listenerPort("meltemi"), wire);
    t.after(() => client.close());
    const greeter = client.client(Greeter);
    let slow = 0;
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      assert.equal(await call<string>((cb) => greeter.hello(`n${i}`, cb)), `hi n${i}`, `call ${i}`);
      if (performance.now() - t0 >= DELAY_MS) slow++;
    }
    const delayed = await envoy.wasmStatTotal("meltemi_fault_delays_total");
    t.diagnostic(`${delayed} delayed by the filter; the client saw ${slow} calls take ${DELAY_MS} ms or more`);
    assertShareNear("delayed calls", delayed, N, PERCENT);
    // A lower bound only: each delayed call took at least the delay (the root's tick continues a held
    // connection only once it is due); load can add slow calls, never remove one.
    assert.ok(slow >= delayed, `${slow} calls took ${DELAY_MS} ms or more, fewer than the ${delayed} the filter delayed`);
    assert.deepEqual(client.errors, []);
    const stats = await envoy.prometheus();
    assert.equal(stats.get("meltemi_connections_total"), 1, "one downstream connection");
    assert.equal(stats.get("meltemi_active_connections"), 1, "and it is still open");
  });
});
