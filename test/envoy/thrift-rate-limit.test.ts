// The local rate limit for Thrift in the real Envoy with 4 worker threads, perRequest mode (Meltemi in
// front of thrift_proxy, configured by the controller's translation): 10 requests per second, offered
// at 100 per second for 4.5 s by real Apache Thrift clients (npm thrift) over 8 connections spread over
// the workers, admits about 50 in all: one budget per proxy, not per worker (rate_limit.ts). Every
// rejected call gets a TApplicationException with Meltemi's message for its own sequence id, while
// other calls are in flight on the same connection; after a refill every connection carries calls again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { thriftProxyFilter } from "../../controller/translate/envoy/thrift_proxy";
import { WIRES, connect, generated, startServer, thrift } from "../codec/thrift/peers";
import { until } from "../wait";
import { listenerBootstrap, staticCluster, wasmNetworkFilter } from "./bootstrap";
import { withEnvoy } from "./envoy";
import { LIMIT, OFFERED, assertAdmittedForWindow, busyWorkers, sendPaced } from "./rate_limit";

const CLUSTER = "outbound|9090||greeter.default.svc.cluster.local";
const CONNECTIONS = 8;
const config = {
  version: 1,
  name: "greeter-limit-thrift",
  protocol: "thrift",
  routingMode: "perRequest",
  routes: [{ name: "all", destinations: [{ cluster: CLUSTER }] }],
  localRateLimit: { tokenBucket: LIMIT },
};

interface Outcome { ok: boolean; error?: { name?: string; type?: number; message?: string } }

test("Thrift, 4 workers: 10 requests/s over 4.5 s admits about 50 across 8 connections; rejected calls get TApplicationExceptions; connections live on", { timeout: 120_000 }, async (t) => {
  const wire = WIRES.find((w) => w.name === "framed binary")!;
  const { Greeter } = generated();
  const server = await startServer(wire, { greeting: "hi" });
  t.after(() => server.close());
  const bootstrap = listenerBootstrap(
    [
      wasmNetworkFilter({ pluginConfig: config }),
      thriftProxyFilter({ statPrefix: "greeter", routeConfigName: "greeter", clusters: [CLUSTER] }),
    ],
    [staticCluster(CLUSTER, server.port)],
  );
  await withEnvoy({ bootstrap, concurrency: 4 }, async (envoy) => {
    const port = await envoy.listenerPort("meltemi");
    const clients = Array.from({ length: CONNECTIONS }, () => connect(port, wire));
    t.after(() => Promise.all(clients.map((c) => c.close())));
    const greeters = clients.map((c) => c.client(Greeter));
    // Connect all first, so that the paced calls do not wait for handshakes.
    await until("all connections up", () => clients.every((c) => c.conn.connected));

    const outcomes = new Map<number, Outcome>();
    const hello = (c: number, name: string, done: (o: Outcome) => void) =>
      greeters[c].hello(name, (err: Outcome["error"] | null, reply: string) => {
        if (err) done({ ok: false, error: err });
        else done({ ok: reply === `hi ${name}`, error: reply === `hi ${name}` ? undefined : { message: `wrong reply ${reply}` } });
      });
    const window = await sendPaced(OFFERED.count, OFFERED.intervalMs, (i) => hello(i % CONNECTIONS, `n${i}`, (o) => outcomes.set(i, o)));
    await until("every call answered", () => outcomes.size === OFFERED.count);

    const all = [...outcomes.entries()];
    const admitted = all.filter(([, o]) => o.ok).length;
    t.diagnostic(assertAdmittedForWindow(admitted, OFFERED.count, window));
    for (const [i, o] of all.filter(([, o]) => !o.ok)) {
      assert.equal(o.error?.name, "TApplicationException", `call ${i}: ${JSON.stringify(o.error)}`);
      assert.equal(o.error?.type, thrift.Thrift.TApplicationExceptionType.INTERNAL_ERROR, `call ${i}`);
      assert.equal(o.error?.message, "meltemi: rate limit exceeded", `call ${i}`);
    }
    const busy = await busyWorkers(envoy);
    assert.ok(busy.length >= 2, `connections landed on ${busy.length} worker(s): ${busy.join("; ")}`);

    // After a refill (10 tokens), one call on each of the 8 connections is admitted.
    await new Promise((r) => setTimeout(r, LIMIT.fillIntervalMs + 100));
    const later = await Promise.all(clients.map((_, c) => new Promise<Outcome>((resolve) => hello(c, `later ${c}`, resolve))));
    assert.deepEqual(later.map((o) => o.ok), clients.map(() => true), JSON.stringify(later));
    for (const c of clients) assert.deepEqual(c.errors, []);
    const stats = await envoy.prometheus();
    assert.equal(stats.get("meltemi_connections_total"), CONNECTIONS);
    assert.equal(stats.get("meltemi_active_connections"), CONNECTIONS, "no connection was closed");
    assert.equal(await envoy.wasmStatTotal("meltemi_rejections_total"), OFFERED.count - admitted);
  });
});
