// The local rate limit is one budget per proxy, shared by all Envoy worker threads: 10 requests per
// second, sent at 100 per second for 4.5 s over 8 connections of a 4-worker Envoy, admits 10 at once
// plus 10 per second, about 50. Every rejected request gets a Dubbo error reply for its id from
// Meltemi; after a refill the same connections carry calls again. Real Apache Dubbo provider upstream.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tcpProxyFilter } from "../../controller/translate/envoy/tcp_proxy";
import { peersClasspath, startProvider } from "../codec/dubbo/peers";
import { listenerBootstrap, staticCluster, wasmNetworkFilter } from "./bootstrap";
import { DubboConnection } from "./dubbo_connection";
import { withEnvoy } from "./envoy";

const CLUSTER = "outbound|20880||greeter.default.svc.cluster.local";
const config = {
  version: 1,
  name: "greeter-limit",
  protocol: "dubbo",
  localRateLimit: { tokenBucket: { maxTokens: 10, tokensPerFill: 10, fillIntervalMs: 1000 } },
};

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

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

    // 100 requests per second for 4.5 s: the bucket starts full (10) and refills 10 at 1, 2, 3 and 4 s.
    let next = 1n;
    const start = Date.now();
    for (let i = 0; i < 450; i++) {
      const due = start + i * 10;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      conns[i % conns.length].send(next++);
    }
    const sent = Number(next - 1n);
    await until("every request answered", () => conns.reduce((n, c) => n + c.outcomes.size, 0) === sent);
    const outcomes = conns.flatMap((c) => [...c.outcomes.values()]);
    const admitted = outcomes.filter((o) => o.ok).length;
    assert.ok(admitted >= 45 && admitted <= 55, `admitted ${admitted} of ${sent}, expected about 50`);
    for (const o of outcomes.filter((o) => !o.ok)) assert.match(o.body, /meltemi: rate limit exceeded/, `request ${o.id}`);

    // The budget was shared by several workers, not kept per worker.
    const listener = (await envoy.admin("/stats?filter=" + encodeURIComponent("^listener\\..*worker_[0-9]+\\.downstream_cx_total$"))).trim().split("\n");
    const busyWorkers = listener.filter((l) => !l.endsWith(": 0")).length;
    assert.ok(busyWorkers >= 2, `connections landed on ${busyWorkers} worker(s): ${listener.join("; ")}`);

    // After a refill, every connection carries a call again.
    await new Promise((r) => setTimeout(r, 1100));
    const later: bigint[] = conns.map((c) => { const id = next++; c.send(id); return id; });
    await until("the later calls answered", () => conns.every((c, i) => c.outcomes.has(later[i])));
    const laterOk = conns.filter((c, i) => c.outcomes.get(later[i])!.ok).length;
    assert.equal(laterOk, 8, "all 8 later calls admitted (10 tokens after the refill)");
    assert.ok(conns.every((c) => !c.closed), "no connection was closed");
  });
});
