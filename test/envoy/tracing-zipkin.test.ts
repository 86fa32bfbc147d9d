// Tracing end to end with real parts, through two official Envoys, a caller-side one (outbound
// listener) and a server-side one (inbound listener), each running Meltemi with tracing on and a static
// cluster to a real Zipkin server (scripts/provision/zipkin.sh). One trace in Zipkin then holds the
// caller's span and both Meltemi spans, each the child of the one before, and the server receives
// Meltemi's server span as its parent:
// - a real Apache Dubbo consumer sending a W3C traceparent attachment (the caller's span, which the
//   test reports to Zipkin itself), to a real Dubbo provider;
// - a real Apache Thrift Go client speaking THeader, traceparent as a THeader header, to a real npm
//   thrift THeader server;
// - a real Dubbo consumer with Dubbo's own tracing on (Micrometer Tracing + Brave, reporting its client
//   span to the same Zipkin: test/peers/dubbo-tracing), with B3 and with W3C propagation.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Consumer, peersClasspath, startProvider, tracingConsumerClasspath } from "../codec/dubbo/peers";
import { HEADER_WIRE, startServer } from "../codec/thrift/peers";
import { GoClient, goClientBuilds } from "./thrift_go";
import { staticBootstrap, staticCluster, tcpProxy, wasmNetworkFilter } from "./bootstrap";
import { withEnvoy } from "./envoy";
import { Zipkin } from "./zipkin";

const ZIPKIN = "zipkin";

// One Zipkin server for the file (it takes seconds to start); each test has its own trace ids.
let zipkin: Zipkin;
before(async () => { zipkin = await Zipkin.start(); });
after(() => zipkin?.stop());

function side(name: string, direction: "OUTBOUND" | "INBOUND", upstreamPort: number, zipkinPort: number, protocol = "dubbo"): object {
  const config = {
    version: 1, name, protocol, routingMode: "perConnection",
    tracing: { collectorCluster: ZIPKIN, samplingPercentage: 0, serviceName: name },
  };
  const bootstrap = staticBootstrap(
    [{ name: "meltemi", filters: [wasmNetworkFilter({ pluginConfig: config }), tcpProxy("upstream")] }],
    [staticCluster("upstream", upstreamPort), staticCluster(ZIPKIN, zipkinPort)],
  ) as { static_resources: { listeners: Array<Record<string, unknown>> } };
  // The direction Istio gives its listeners: Meltemi reports CLIENT spans outbound, SERVER spans inbound.
  bootstrap.static_resources.listeners[0]!.traffic_direction = direction;
  return bootstrap;
}

test("a real Dubbo call through a client-side and a server-side Envoy: one Zipkin trace, parent and child in order", async (t) => {
  const classpath = peersClasspath();
  const provider = await startProvider(classpath);
  t.after(() => provider.process.kill());
  const consumer = await Consumer.start(classpath);
  t.after(() => consumer.kill());

  const traceId = randomBytes(16).toString("hex");
  const consumerSpan = randomBytes(8).toString("hex");
  const startUs = Date.now() * 1000;

  await withEnvoy({ bootstrap: side("greeter-server", "INBOUND", provider.port, zipkin.port), concurrency: 1 }, async (server) => {
    const serverPort = await server.listenerPort("meltemi");
    await withEnvoy({ bootstrap: side("web-client", "OUTBOUND", serverPort, zipkin.port), concurrency: 1 }, async (client) => {
      const port = await client.listenerPort("meltemi");
      const r = await consumer.call({ port, method: "echo", arg: "traced", timeout: 10_000, attachments: { traceparent: `00-${traceId}-${consumerSpan}-01` } });
      assert.equal(r.ok, true, JSON.stringify(r));
      await zipkin.post([{
        traceId, id: consumerSpan, kind: "CLIENT", name: "echo", timestamp: startUs, duration: Date.now() * 1000 - startUs,
        localEndpoint: { serviceName: "dubbo-consumer" },
      }]);

      const spans = await zipkin.waitForTrace(traceId, 3);
      assert.equal(spans.length, 3, JSON.stringify(spans));
      const byService = new Map(spans.map((s) => [s.localEndpoint?.serviceName, s]));
      const clientSpan = byService.get("web-client");
      const serverSpan = byService.get("greeter-server");
      assert.ok(clientSpan && serverSpan, JSON.stringify(spans));
      assert.equal(clientSpan.parentId, consumerSpan, "the caller-side Meltemi span is the consumer span's child");
      assert.equal(serverSpan.parentId, clientSpan.id, "the server-side Meltemi span is the caller-side one's child");
      assert.equal(clientSpan.kind, "CLIENT");
      assert.equal(serverSpan.kind, "SERVER");
      for (const s of [clientSpan, serverSpan]) {
        assert.equal(s.tags?.["rpc.method"], "echo");
        assert.equal(s.tags?.["rpc.service"], "meltemi.peers.dubbo.EchoService");
        assert.equal(s.tags?.["meltemi.status"], "ok");
        assert.ok((s.duration ?? 0) > 0);
      }
      // What the provider got: the trace, with Meltemi's server span as the parent.
      const arrived = r.result as Record<string, string>;
      assert.equal(arrived["att:traceparent"], `00-${traceId}-${serverSpan.id}-01`, JSON.stringify(arrived));

      const reported = (await client.wasmStatTotal("meltemi_trace_spans_reported_total")) + (await server.wasmStatTotal("meltemi_trace_spans_reported_total"));
      assert.equal(reported, 2);
    });
  });
});

test("a real Thrift Go client (THeader) through a client-side and a server-side Envoy: one Zipkin trace, the server gets the context", async (t) => {
  const server = await startServer(HEADER_WIRE, { greeting: "hi" });
  t.after(() => server.close());
  const [, binary] = goClientBuilds().at(-1)!;

  const traceId = randomBytes(16).toString("hex");
  const callerSpan = randomBytes(8).toString("hex");
  await withEnvoy({ bootstrap: side("echo-server", "INBOUND", server.port, zipkin.port, "thrift"), concurrency: 1 }, async (serverSide) => {
    const serverPort = await serverSide.listenerPort("meltemi");
    await withEnvoy({ bootstrap: side("web-client", "OUTBOUND", serverPort, zipkin.port, "thrift"), concurrency: 1 }, async (clientSide) => {
      const client = new GoClient(binary, await clientSide.listenerPort("meltemi"), "header", "binary");
      t.after(() => client.close());
      assert.deepEqual(await client.run(`hello thrift traceparent=00-${traceId}-${callerSpan}-01`), { op: "hello", ok: true, result: "hi thrift" });

      const spans = await zipkin.waitForTrace(traceId, 2);
      const byService = new Map(spans.map((s) => [s.localEndpoint?.serviceName, s]));
      const clientSpan = byService.get("web-client");
      const serverSpan = byService.get("echo-server");
      assert.ok(clientSpan && serverSpan, JSON.stringify(spans));
      assert.equal(clientSpan.parentId, callerSpan);
      assert.equal(serverSpan.parentId, clientSpan.id);
      assert.deepEqual([clientSpan.kind, serverSpan.kind], ["CLIENT", "SERVER"]);
      assert.equal(serverSpan.tags?.["rpc.method"], "hello");
      assert.equal(server.headersSeen.at(-1)?.traceparent, `00-${traceId}-${serverSpan.id}-01`, JSON.stringify(server.headersSeen));
    });
  });
});

for (const propagation of ["B3", "W3C"] as const) {
  test(`a real Dubbo consumer with Dubbo's own tracing on (Micrometer + Brave, ${propagation}): its span, then both Meltemi spans, in one trace`, async (t) => {
    const provider = await startProvider(peersClasspath());
    t.after(() => provider.process.kill());
    const consumer = await Consumer.start(tracingConsumerClasspath(), { zipkin: `${zipkin.url}/api/v2/spans`, propagation });
    t.after(() => consumer.kill());

    await withEnvoy({ bootstrap: side("greeter-server", "INBOUND", provider.port, zipkin.port), concurrency: 1 }, async (server) => {
      const serverPort = await server.listenerPort("meltemi");
      await withEnvoy({ bootstrap: side("web-client", "OUTBOUND", serverPort, zipkin.port), concurrency: 1 }, async (client) => {
        const port = await client.listenerPort("meltemi");
        const r = await consumer.call({ port, method: "echo", arg: "traced", timeout: 10_000 });
        assert.equal(r.ok, true, JSON.stringify(r));
        const arrived = r.result as Record<string, string>;
        // What Dubbo's tracing writes: Brave's B3 propagation the single `b3` attachment, W3C `traceparent`.
        const traceKey = propagation === "B3" ? "att:b3" : "att:traceparent";
        const value = arrived[traceKey];
        assert.ok(value, `the provider got the trace context as ${traceKey}: ${JSON.stringify(arrived)}`);
        const traceId = propagation === "B3" ? value.split("-")[0]! : value.split("-")[1]!;
        const spans = await zipkin.waitForTrace(traceId, 3);
        const consumerSpan = spans.find((s) => s.localEndpoint?.serviceName === "meltemi-test-consumer");
        const clientSpan = spans.find((s) => s.localEndpoint?.serviceName === "web-client");
        const serverSpan = spans.find((s) => s.localEndpoint?.serviceName === "greeter-server");
        assert.ok(consumerSpan && clientSpan && serverSpan, JSON.stringify(spans));
        assert.equal(consumerSpan.kind, "CLIENT");
        assert.equal(clientSpan.parentId, consumerSpan.id, "the caller-side Meltemi span is the Dubbo consumer span's child");
        assert.equal(serverSpan.parentId, clientSpan.id);
        // The provider's parent is Meltemi's server span (b3: trace-span-sampled-parent; traceparent: 00-trace-span-flags).
        assert.equal(value.split("-")[propagation === "B3" ? 1 : 2], serverSpan.id, value);
      });
    });
  });
}
