// The local rate limit is one budget per proxy, shared by all Envoy worker threads: 10 requests per
// second, sent at 100 per second for 4.5 s over 8 connections of a 4-worker Envoy, admits 10 at once
// plus 10 per second, about 50 (rate_limit.ts: the scenario and why the count is checked against the
// window observed). Every rejected request gets a Dubbo error reply for its id from
// Meltemi; after a refill the same connections carry calls again. Real Apache Dubbo provider upstream.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tcpProxyFilter } from "../../controller/translate/envoy/tcp_proxy";
import { peersClasspath, startProvider, waitUntil } from "../codec/dubbo/peers";
import { listenerBootstrap, staticCluster, wasmNetworkFilter } from "./bootstrap";
import { DubboConnection } from "./dubbo_connection";
import { withEnvoy } from "./envoy";
import { LIMIT, OFFERED, assertAdmittedForWindow, busyWorkers, sendPaced } from "./rate_limit";

const CLUSTER = "outbound|20880||greeter.default.svc.cluster.local";
const config = {
  version: 1,
  name: "greeter-limit",
  protocol: "dubbo",
  localRateLimit: { tokenBucket: LIMIT },
};

test("10 requests/s over 4.5 s across 4 workers admits about 50; rejected calls get error replies; connections live on", async (t) => {
  const provider = await startProvider(peersClasspath());
  t.after(() => provider.process.kill());
  const bootstrap = listenerBootstrap(
    [
      wasmNetworkFilter({ pluginConfig: config }),
      tcpProxyFilter({ statPrefix: "greeter", cluster: CLUSTER, earlyDataBytes: 65536 }),
    ],
    [staticCluster(CLUSTER, provider.port)],
  );

  await withEnvoy({ bootstrap, concurrency: 4 }, async (envoy) => {
    const port = await envoy.listenerPort("meltemi");
    const conns = await Promise.all(Array.from({ length: 8 }, () => DubboConnection.open(port)));
    t.after(() => conns.forEach((c) => c.close()));

    // The bucket starts full (10) and refills 10 at 1, 2, 3 and 4 s.
    let next = 1n;
    const window = await sendPaced(OFFERED.count, OFFERED.intervalMs, (i) => conns[i % conns.length].send(next++));
    const sent = Number(next - 1n);
    await waitUntil("every request answered", () => conns.reduce((n, c) => n + c.outcomes.size, 0), (n) => n === sent);
    const outcomes = conns.flatMap((c) => [...c.outcomes.values()]);
    const admitted = outcomes.filter((o) => o.ok).length;
    t.diagnostic(assertAdmittedForWindow(admitted, sent, window));
    for (const o of outcomes.filter((o) => !o.ok)) assert.match(o.body, /meltemi: rate limit exceeded/, `request ${o.id}`);

    // The budget was shared by several workers, not kept per worker.
    const busy = await busyWorkers(envoy);
    assert.ok(busy.length >= 2, `connections landed on ${busy.length} worker(s): ${busy.join("; ")}`);

    // After a refill, every connection carries a call again. The refill is the event waited on: rounds of
    // one call per connection until a round is admitted whole (10 tokens after a refill cover 8 calls);
    // a round before it is rejected by the limit, by nothing else.
    const deadline = Date.now() + 5_000;
    let rounds = 0;
    for (let whole = false; !whole; rounds++) {
      assert.ok(Date.now() < deadline, `no round of 8 calls admitted whole within 5 s (${rounds} rounds)`);
      const ids: bigint[] = conns.map((c) => { const id = next++; c.send(id); return id; });
      await waitUntil("a round of later calls answered", () => conns.every((c, i) => c.outcomes.has(ids[i]!)), (ok) => ok);
      const round = conns.map((c, i) => c.outcomes.get(ids[i]!)!);
      for (const o of round.filter((o) => !o.ok)) assert.match(o.body, /meltemi: rate limit exceeded/, `request ${o.id}`);
      whole = round.every((o) => o.ok);
      if (!whole) await new Promise((r) => setTimeout(r, 20)); // the pace of the rounds, not a wait for the outcome
    }
    t.diagnostic(`a whole round admitted after ${rounds} round(s)`);
    assert.ok(conns.every((c) => !c.closed), "no connection was closed");
  });
});
