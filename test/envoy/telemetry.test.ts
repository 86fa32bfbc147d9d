// Request telemetry in the real Envoy, with real Apache Dubbo peers: the access log lines in Envoy's log,
// and /stats/prometheus shows
// `meltemi_requests_total{reporter,request_protocol,rpc_service,rpc_method,rpc_status}`, the duration
// histogram's buckets, and rejections by reason, with clean names: the labels come from the stats_tags
// rules of the controller's translation (controller/translate/envoy/stats_tags.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { dubboProxyFilter } from "../../controller/translate/envoy/dubbo_proxy";
import { Consumer, peersClasspath, startProvider } from "../codec/dubbo/peers";
import { listenerBootstrap, staticCluster, wasmNetworkFilter } from "./bootstrap";
import { withEnvoy } from "./envoy";

const V1 = "outbound|20880|v1|greeter.default.svc.cluster.local";

const config = {
  version: 1,
  name: "greeter",
  protocol: "dubbo",
  routingMode: "perRequest",
  routes: [{ name: "all", destinations: [{ cluster: V1 }] }],
  authorization: [{ name: "no-fail", action: "DENY", rules: [{ to: [{ methods: ["fail"] }] }] }],
  accessLog: { enabled: true },
};

function bootstrap(port: number): object {
  const b = listenerBootstrap(
    [wasmNetworkFilter({ pluginConfig: config }), dubboProxyFilter({ statPrefix: "greeter", routeConfigName: "greeter", clusters: [V1] })],
    [staticCluster(V1, port)],
  ) as { static_resources: { listeners: Record<string, unknown>[] }; stats_flush_interval?: string };
  // An inbound listener, as Istio's sidecar has for the service port: reporter="destination".
  b.static_resources.listeners[0].traffic_direction = "INBOUND";
  // Histograms reach /stats/prometheus when Envoy merges the workers' samples, at each stats flush.
  b.stats_flush_interval = "1s";
  return b;
}

test("in Envoy: /stats/prometheus shows labelled request counters, duration buckets and rejections by reason", async (t) => {
  const classpath = peersClasspath();
  const provider = await startProvider(classpath);
  t.after(() => provider.process.kill());
  const consumer = await Consumer.start(classpath);
  t.after(() => consumer.kill());

  await withEnvoy({ bootstrap: bootstrap(provider.port), concurrency: 2 }, async (envoy) => {
    const port = await envoy.listenerPort("meltemi");
    for (let i = 0; i < 5; i++) assert.equal((await consumer.call({ port, method: "echo", arg: String(i), timeout: 5000 })).ok, true);
    assert.equal((await consumer.call({ port, method: "nothing", timeout: 5000 })).ok, true);
    const denied = await consumer.call({ port, method: "fail", arg: "x", timeout: 5000 });
    assert.equal(denied.ok, false);

    const labels = (method: string, status: string) =>
      `reporter="destination",request_protocol="dubbo",rpc_service="meltemi.peers.dubbo.EchoService",rpc_method="${method}",rpc_status="${status}"`;
    let text = "";
    const deadline = Date.now() + 10_000;
    // Wait for a stats flush to merge the histogram samples.
    while (!/meltemi_request_duration_milliseconds_count\{[^}]*rpc_method="echo"[^}]*\} 5/.test(text)) {
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
      text = await envoy.admin("/stats/prometheus");
    }
    const lines = text.split("\n").filter((l) => l.startsWith("meltemi_") || l.startsWith("# TYPE meltemi_"));
    const show = lines.join("\n");
    // No residue of the tag syntax in any name.
    assert.doesNotMatch(show, /=\.=|;\.;|meltemi_requests_total_/, show);
    assert.ok(lines.includes("# TYPE meltemi_requests_total counter"), show);
    assert.ok(lines.includes("# TYPE meltemi_request_duration_milliseconds histogram"), show);
    const metric = (name: string, l: string) => lines.find((x) => x.startsWith(`${name}{`) && sameLabels(x, l));
    assert.match(metric("meltemi_requests_total", labels("echo", "ok")) ?? "", / 5$/, show);
    assert.match(metric("meltemi_requests_total", labels("nothing", "ok")) ?? "", / 1$/, show);
    // The denied call: counted with the reason as its status, and in the rejections by reason.
    assert.match(metric("meltemi_requests_total", labels("fail", "unauthorized")) ?? "", / 1$/, show);
    assert.match(lines.find((x) => x.startsWith('meltemi_rejections_total{reason="unauthorized"}')) ?? "", / 1$/, show);
    // Histogram: buckets with `le`, the count and the sum.
    assert.match(metric("meltemi_request_duration_milliseconds_count", labels("echo", "ok")) ?? "", / 5$/, show);
    const buckets = lines.filter((x) => x.startsWith("meltemi_request_duration_milliseconds_bucket{") && x.includes('rpc_method="echo"'));
    assert.ok(buckets.length > 5, show);
    assert.match(buckets.find((x) => x.includes('le="+Inf"')) ?? "", / 5$/, show);

    // The access log (default format) in Envoy's log, `wasm` component at info.
    const log = envoy.log();
    const echoLines = log.split("\n").filter((l) => /dubbo meltemi\.peers\.dubbo\.EchoService\/echo id=-?\d+ status=ok duration_ms=\d+\.\d{3} cluster=outbound\|20880\|v1\|greeter\.default\.svc\.cluster\.local reason=-$/.test(l));
    assert.equal(echoLines.length, 5, log);
    assert.match(log, /dubbo meltemi\.peers\.dubbo\.EchoService\/fail id=-?\d+ status=unauthorized duration_ms=\d+\.\d{3} cluster=- reason=unauthorized/);
  });
});

/** Whether a Prometheus line carries exactly the labels `l` (Envoy's label order is its own). */
function sameLabels(line: string, l: string): boolean {
  const inside = line.slice(line.indexOf("{") + 1, line.lastIndexOf("}"));
  const want = l.split(",").sort();
  const got = inside.split(",").filter((x) => !x.startsWith("le=")).sort();
  return JSON.stringify(want) === JSON.stringify(got);
}
