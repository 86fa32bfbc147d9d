// A subset set's limit rides in a second Meltemi filter (the subset's own server WasmPlugin, as Slime
// stacks one EnvoyFilter per set): on a pod of the subset, Istio chains the service-wide plugin and the
// subset's. In the real Envoy, the two chained filters from the translation of a SmartLimiter with a
// `_base` and a `v2` set limit together: the tighter bucket wins, every rejected call gets the Dubbo
// error reply, the connection lives on. Real Apache Dubbo provider upstream.
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
import { peersClasspath, startProvider } from "../codec/dubbo/peers";
import { TEST_OPTIONS } from "../controller/support";
import { listenerBootstrap, staticCluster, wasmNetworkFilter } from "../envoy/bootstrap";
import { DubboConnection } from "../envoy/dubbo_connection";
import { withEnvoy } from "../envoy/envoy";

const service = {
  apiVersion: "v1", kind: "Service", metadata: { name: "greeter", namespace: "default" },
  spec: { clusterIP: "10.0.0.9", selector: { app: "greeter" }, ports: [{ name: "tcp-metaprotocol-dubbo", port: 20880, targetPort: 20880 }] },
};
const dr = { apiVersion: "networking.istio.io/v1", kind: "DestinationRule", metadata: { name: "greeter", namespace: "default" }, spec: { host: "greeter", subsets: [{ name: "v2", labels: { version: "v2" } }] } };
const smartLimiter = {
  apiVersion: "microservice.slime.io/v1alpha2", kind: "SmartLimiter", metadata: { name: "greeter", namespace: "default" },
  spec: { sets: {
    _base: { descriptor: [{ action: { fill_interval: { seconds: 60 }, quota: "300" }, condition: "true" }] },
    v2: { descriptor: [{ action: { fill_interval: { seconds: 60 }, quota: "10/{{.v2.pod}}" }, condition: "{{.v2.cpu.sum}}>10" }] },
  } },
};

test("a _base and a v2 set: the two chained filters in the real Envoy limit together (5 of 40 on a v2 pod)", { timeout: 120_000 }, async (t) => {
  const snapshot = { ...emptySnapshot(), services: [service] as never[], destinationRules: [dr] as never[], smartLimiters: [smartLimiter] };
  const [limiter] = adaptiveLimitersOf(snapshot);
  const metrics: MetricSource = { query: async () => 178 };
  const engine = new AdaptiveEngine(metrics, { podsOf: (_l, set) => (set === "v2" ? ["greeter-v2-0", "greeter-v2-1"] : ["greeter-v1-0", "greeter-v2-0", "greeter-v2-1"]) }, { queries: DEFAULT_QUERIES, confirmations: 1 });
  const [r] = await engine.refresh([limiter!], 0);
  const result = translate({ ...snapshot, adaptiveQuotas: new Map([[limiterKey(limiter!.source), r!.quotas]]) }, TEST_OPTIONS);
  const plugins = result.objects.filter((o) => o.kind === "WasmPlugin") as { metadata: { name: string }; spec: { pluginConfig: { name: string } } }[];
  assert.equal(plugins.length, 2, JSON.stringify(result.diagnostics));

  const provider = await startProvider(peersClasspath());
  t.after(() => provider.process.kill("SIGKILL"));
  const cluster = "inbound|20880||";
  // The order Istio gives two plugins of the same phase and priority is not ours to choose: the subset's
  // filter first here, the service-wide one first in the other order below; both must hold.
  for (const order of [[1, 0], [0, 1]]) {
    const filters = order.map((i) => wasmNetworkFilter({ pluginConfig: plugins[i]!.spec.pluginConfig, pluginName: plugins[i]!.metadata.name }));
    const bootstrap = listenerBootstrap([...filters, tcpProxyFilter({ statPrefix: "greeter", cluster, earlyDataBytes: 65536 })], [staticCluster(cluster, provider.port)]);
    await withEnvoy({ bootstrap, concurrency: 2 }, async (envoy) => {
      const conn = await DubboConnection.open(await envoy.listenerPort("meltemi"));
      try {
        for (let i = 1; i <= 40; i++) conn.send(BigInt(i));
        const deadline = Date.now() + 20_000;
        while (conn.outcomes.size < 40 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
        assert.equal(conn.outcomes.size, 40, "every call answered");
        const outcomes = [...conn.outcomes.values()];
        const admitted = outcomes.filter((o) => o.ok).length;
        // v2 quota 10 over 2 v2 pods = 5 per pod per minute; the _base bucket (300) is not the one that binds.
        assert.equal(admitted, 5, `order ${order}: admitted ${admitted} of 40`);
        for (const o of outcomes.filter((o) => !o.ok)) assert.match(o.body, /rate limit exceeded/);
        assert.ok(!conn.closed);
      } finally {
        conn.close();
      }
    });
  }
});
