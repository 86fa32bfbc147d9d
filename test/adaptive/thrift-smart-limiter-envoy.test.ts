// Slime's documented "Service ratelimit" (doc/en/smart_limiter.md of slime-io/slime: quota
// `3/{{._base.pod}}` per 60 s, "for each instance, the current limit quota is 3/3=1") under a CPU
// condition, on a THRIFT service: with the documented metric values (3 pods, _base.cpu.sum
// 536.226646691) the translation gives each pod 1 call per minute, and in the real Envoy in front of a
// real Apache Thrift server (npm thrift, framed binary) one connection gets 1 call through and
// TApplicationExceptions for the other 4, the connection staying open; when the CPU falls the limit is
// lifted after two readings and 5 of 5 calls pass.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AdaptiveEngine } from "../../controller/adaptive/engine";
import { limiterKey } from "../../controller/translate/adaptive_limiter";
import { adaptiveLimitersOf } from "../../controller/translate/adaptive_limiters";
import type { MetricSource } from "../../controller/adaptive/prometheus";
import { DEFAULT_QUERIES } from "../../controller/adaptive/queries";
import { tcpProxyFilter } from "../../controller/translate/envoy/tcp_proxy";
import { emptySnapshot } from "../../controller/translate/snapshot";
import { translate } from "../../controller/translate/translate";
import { WIRES, call, connect, generated, startServer, thrift } from "../codec/thrift/peers";
import { until } from "../wait";
import { TEST_OPTIONS } from "../controller/support";
import { listenerBootstrap, staticCluster, wasmNetworkFilter } from "../envoy/bootstrap";
import { withEnvoy } from "../envoy/envoy";

const service = {
  apiVersion: "v1", kind: "Service", metadata: { name: "reviews", namespace: "default" },
  spec: { clusterIP: "10.0.0.9", selector: { app: "reviews" }, ports: [{ name: "tcp-metaprotocol-thrift", port: 9090, targetPort: 9090 }] },
};
const smartLimiter = {
  apiVersion: "microservice.slime.io/v1alpha2", kind: "SmartLimiter", metadata: { name: "reviews", namespace: "default" },
  spec: { sets: { _base: { descriptor: [{ action: { fill_interval: { seconds: 60 }, quota: "3/{{._base.pod}}" }, condition: "{{._base.cpu.sum}}>100" }] } } },
};

test("Slime's documented per-pod quota (3/{{._base.pod}} = 1) under a CPU condition limits a Thrift service in the real Envoy", { timeout: 120_000 }, async (t) => {
  const snapshot = { ...emptySnapshot(), services: [service] as never[], smartLimiters: [smartLimiter] };
  const [limiter] = adaptiveLimitersOf(snapshot);
  let cpu = 536.226646691;
  const metrics: MetricSource = { query: async () => cpu };
  const engine = new AdaptiveEngine(metrics, { podsOf: () => ["reviews-v1-0", "reviews-v2-0", "reviews-v3-0"] }, { queries: DEFAULT_QUERIES });
  const configAt = async (now: number) => {
    const [r] = await engine.refresh([limiter!], now);
    const result = translate({ ...snapshot, adaptiveQuotas: new Map([[limiterKey(limiter!.source), r!.quotas]]) }, TEST_OPTIONS);
    const wp = result.objects.find((o) => o.kind === "WasmPlugin") as { spec: { pluginConfig: { localRateLimit?: unknown } } };
    return { status: r!.status, config: wp.spec.pluginConfig };
  };
  await configAt(0);
  const limited = await configAt(10_000); // the second reading confirms the condition
  assert.deepEqual(limited.status.ratelimitStatus, { _base: { descriptor: [{ action: { quota: "1", fill_interval: { seconds: 60 }, strategy: "single" } }] } });
  assert.deepEqual(limited.status.metricStatus, { "_base.cpu.sum": "536.226646691", "_base.pod": "3" });
  assert.deepEqual(limited.config.localRateLimit, { tokenBucket: { maxTokens: 1, tokensPerFill: 1, fillIntervalMs: 60_000 } });
  cpu = 50;
  await configAt(20_000);
  const lifted = await configAt(30_000);
  assert.deepEqual(lifted.config.localRateLimit, {});

  const wire = WIRES.find((w) => w.name === "framed binary")!;
  const { Greeter } = generated();
  const server = await startServer(wire, { greeting: "hi" });
  t.after(() => server.close());
  const cluster = "inbound|9090||";
  for (const [config, expected] of [[limited.config, 1], [lifted.config, 5]] as const) {
    const bootstrap = listenerBootstrap(
      [wasmNetworkFilter({ pluginConfig: config }), tcpProxyFilter({ statPrefix: "reviews", cluster, earlyDataBytes: 65536 })],
      [staticCluster(cluster, server.port)],
    );
    await withEnvoy({ bootstrap, concurrency: 2 }, async (envoy) => {
      const client = connect(await envoy.listenerPort("meltemi"), wire);
      try {
        await until("connected", () => client.conn.connected);
        const greeter = client.client(Greeter);
        let ok = 0;
        for (let i = 0; i < 5; i++) {
          try {
            assert.equal(await call<string>((cb) => greeter.hello(`n${i}`, cb)), `hi n${i}`);
            ok++;
          } catch (err) {
            const e = err as { name?: string; type?: number; message?: string };
            assert.equal(e.name, "TApplicationException", JSON.stringify(e));
            assert.equal(e.message, "meltemi: rate limit exceeded");
            assert.equal(e.type, thrift.Thrift.TApplicationExceptionType.INTERNAL_ERROR);
          }
        }
        assert.equal(ok, expected, `${ok} of 5 calls passed`);
        assert.ok(client.conn.connected, "the connection stays open");
      } finally {
        await client.close();
      }
    });
  }
});
