// Delay faults in the real Envoy with real Thrift peers, in both routing modes: a delay of DELAY_MS for
// PERCENT% of the calls on ONE connection. The filter holds the connection (Pause) and its root's tick
// continues it when the delay is over (proxy_set_effective_context + proxy_continue_stream). The client
// sees about PERCENT% of its calls slower by about the delay, every call succeeds, and the connection
// stays open. Calls are sequential: a delay also holds later requests of the same connection (README).
import { test } from "node:test";
import assert from "node:assert/strict";
import { tcpProxyFilter } from "../../controller/translate/envoy/tcp_proxy";
import { thriftProxyFilter } from "../../controller/translate/envoy/thrift_proxy";
import { WIRES, call, connect, generated, startServer } from "../codec/thrift/peers";
import { listenerBootstrap, staticCluster, wasmNetworkFilter } from "./bootstrap";
import { withEnvoy } from "./envoy";
import { assertShareNear } from "./share";

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
    wasmNetworkFilter({ pluginConfig: config }),
    mode === "perRequest"
      ? thriftProxyFilter({ statPrefix: "greeter", routeConfigName: "greeter", clusters: [CLUSTER] })
      : tcpProxyFilter({ statPrefix: "greeter", cluster: CLUSTER, earlyDataBytes: 65536 }),
  ];
  await withEnvoy({ bootstrap: listenerBootstrap(filters, [staticCluster(CLUSTER, server.port)]), concurrency: 2 }, async (envoy) => {
    const client = connect(await envoy.listenerPort("meltemi"), wire);
    t.after(() => client.close());
    const greeter = client.client(Greeter);
    const slow: number[] = [];
    const fast: number[] = [];
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      assert.equal(await call<string>((cb) => greeter.hello(`n${i}`, cb)), `hi n${i}`, `call ${i}`);
      const ms = performance.now() - t0;
      (ms >= DELAY_MS ? slow : fast).push(ms);
    }
    const delayed = await envoy.wasmStatTotal("meltemi_fault_delays_total");
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    t.diagnostic(`${delayed} delayed by the filter; the client saw ${slow.length} calls >= ${DELAY_MS} ms (median ${median(slow).toFixed(1)} ms), ${fast.length} faster (median ${median(fast).toFixed(1)} ms)`);
    // Every delayed call took at least the delay (the tick releases a connection only when it is due).
    assert.ok(slow.length >= delayed, `${slow.length} slow calls, ${delayed} delayed`);
    assertShareNear("delayed calls", delayed, N, PERCENT);
    assertShareNear("calls the client saw slower by the delay", slow.length, N, PERCENT);
    assert.ok(median(slow) < DELAY_MS + 100, `slow calls took ${median(slow).toFixed(1)} ms (median), expected about ${DELAY_MS}`);
    assert.deepEqual(client.errors, []);
    const stats = await envoy.prometheus();
    assert.equal(stats.get("meltemi_connections_total"), 1, "one downstream connection");
    assert.equal(stats.get("meltemi_active_connections"), 1, "and it is still open");
  });
});
