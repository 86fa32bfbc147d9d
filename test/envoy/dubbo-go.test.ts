// A real dubbo-go consumer (dubbo.apache.org/dubbo-go/v3, test/peers/dubbo-go: client.Dial on a direct
// dubbo:// URL, CallUnary, hessian2) calling the real Java providers (test/peers/dubbo) through the
// real Envoy with the built module, in both modes: its requests pass Meltemi exactly like the Java
// consumer's (test/envoy/dubbo-per-connection.test.ts, dubbo-per-request.test.ts).
//
// dubbo-go keeps a pool of up to 16 connections per provider address by default and sends each call on
// a random one; the perConnection tests run it with one connection (so that "the next call on the same
// connection" holds), the perRequest test with its defaults.
//
// The Dubbo codec refuses a request whose `path` or `version` attachment differs from the body's
// service path and version (filter/codec/dubbo/codec.ts, servedAsBodySays). dubbo-go writes both from
// the same values, and a service without a version as "" in both (not null): the first test pins what
// dubbo-go puts on the wire, read by Meltemi's own codec, so that a dubbo-go release that changes it
// shows up here before it shows up as refused calls.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tcpProxyFilter } from "../../controller/translate/envoy/tcp_proxy";
import { dubboProxyFilter } from "../../controller/translate/envoy/dubbo_proxy";
import { decode } from "../codec/harness";
import { peersClasspath, startProvider, startRelay } from "../codec/dubbo/peers";
import { sumOf } from "../support/stats_tags";
import { listenerBootstrap, staticCluster, wasmNetworkFilter } from "./bootstrap";
import { DubboGoConsumer, dubboGoBinary } from "./dubbo_go";
import { withEnvoy } from "./envoy";
import { until } from "../wait";

const V1 = "outbound|20880|v1|greeter.default.svc.cluster.local";
const V2 = "outbound|20880|v2|greeter.default.svc.cluster.local";
const SERVICE = "meltemi.peers.dubbo.EchoService";
const TIMEOUT = 5000;
/** Dubbo 3.3's answer to a call of a service key it does not export (no exporter: no argument types). */
const NOT_EXPORTED = /Fail to decode request due to: RpcInvocation \[methodName=echo, parameterTypes=null\]/;

const binary = dubboGoBinary();

/** The provider's echo answer: {"arg": ..., "att:<key>": ...} for what arrived. */
function echoed(r: { ok: boolean; result?: unknown; error?: string }): Record<string, string> {
  assert.equal(r.ok, true, JSON.stringify(r));
  return r.result as Record<string, string>;
}

test("dubbo-go on the wire: Meltemi's codec reads its requests, body and path/version attachments agree", async (t) => {
  const classpath = peersClasspath();
  const provider = await startProvider(classpath);
  t.after(() => provider.process.kill());
  const relay = await startRelay(provider.port);
  t.after(() => relay.close());
  const consumer = new DubboGoConsumer(binary);
  t.after(() => consumer.kill());

  assert.equal(echoed(await consumer.call({ port: relay.port, method: "echo", arg: "plain", timeout: TIMEOUT })).arg, "plain");
  const blue = echoed(await consumer.call({ port: relay.port, method: "echo", arg: "blue", group: "blue", version: "1.0.0", timeout: TIMEOUT, attachments: { "x-user": "vip-1" } }));
  assert.equal(blue.arg, "blue");
  assert.equal(blue["att:x-user"], "vip-1", "a context attachment reaches the provider");
  // No call options: dubbo-go then sends timeout=0 (see test/peers/dubbo-go/README.md).
  assert.equal(echoed(await consumer.call({ port: relay.port, method: "echo", arg: "no timeout" })).arg, "no timeout");
  // The provider exports group blue only as version 1.0.0; this is its answer to another version.
  const missing = await consumer.call({ port: relay.port, method: "echo", arg: "x", group: "blue", version: "9.9.9", timeout: TIMEOUT });
  assert.equal(missing.ok, false);
  assert.match(missing.error ?? "", NOT_EXPORTED, JSON.stringify(missing));

  const wire = await decode("dubbo", relay.fromClients());
  assert.equal(wire.error, "", "Meltemi's codec accepts every byte dubbo-go sent");
  assert.equal(wire.pending, 0);
  const requests = wire.frames.filter((f) => f.kind === "request");
  assert.equal(requests.length, 4, JSON.stringify(wire.frames.map((f) => f.kind)));
  const [plain, grouped, bare, other] = requests.map((f) => f.metadata);
  let offset = 0;
  for (const f of wire.frames) {
    const frame = relay.fromClients().subarray(offset, offset + f.frameLength);
    offset += f.frameLength;
    if (f.kind !== "request") continue;
    assert.equal(frame[2], 0xc2, "flags: request, two-way, serialization 2 (hessian2)");
    assert.deepEqual(frame.subarray(16, 22), Buffer.from("\x052.0.2", "latin1"), "the body opens with dubbo-go's DEFAULT_DUBBO_PROTOCOL_VERSION");
    assert.equal(f.metadata.interface, SERVICE);
    assert.equal(f.metadata.path, SERVICE);
    assert.equal(f.metadata.method, "echo");
  }
  assert.equal(plain.version, "", "no version configured: the empty string, in the body and the attachment alike");
  assert.equal(plain.group, undefined, "no group configured: no group attachment");
  assert.equal(plain.timeout, String(TIMEOUT));
  assert.equal(grouped.version, "1.0.0");
  assert.equal(grouped.group, "blue");
  assert.equal(grouped["x-user"], "vip-1");
  assert.equal(bare.timeout, "0", JSON.stringify(bare));
  assert.equal(other.version, "9.9.9");
});

test("perConnection: dubbo-go's heartbeats on a routed connection pass Meltemi both ways, the calls around them work", async (t) => {
  const classpath = peersClasspath();
  const provider = await startProvider(classpath);
  t.after(() => provider.process.kill());
  const config = {
    version: 1, name: "greeter", protocol: "dubbo", routingMode: "perConnection",
    routes: [{ name: "all", destinations: [{ cluster: V1 }] }],
  };
  const bootstrap = listenerBootstrap(
    [wasmNetworkFilter({ pluginConfig: config }), tcpProxyFilter({ statPrefix: "greeter", cluster: V1, earlyDataBytes: 65536 })],
    [staticCluster(V1, provider.port)],
  );
  await withEnvoy({ bootstrap, concurrency: 2 }, async (envoy) => {
    // A recording relay in front of Envoy: what dubbo-go sent, and what came back to it.
    const relay = await startRelay(await envoy.listenerPort("meltemi"));
    t.after(() => relay.close());
    const consumer = new DubboGoConsumer(binary, { connections: 1, heartbeat: "200ms" });
    t.after(() => consumer.kill());
    // The first call opens the connection and picks its cluster. (A heartbeat sent before the first
    // request would wait, unanswered, for that request: test/peers/dubbo-go/README.md.)
    assert.equal(echoed(await consumer.call({ port: relay.port, method: "echo", arg: "before", timeout: TIMEOUT })).arg, "before");
    const heartbeats = async (data: Buffer, answers: boolean) => {
      const d = await decode("dubbo", data, [], {}, answers);
      assert.equal(d.error, "", `decodes: ${d.error}`);
      return d.frames.filter((f) => f.kind === "heartbeat").map((f) => f.requestId);
    };
    let answered: string[] = [];
    await until("three of dubbo-go's heartbeats answered through Envoy", async () => {
      answered = await heartbeats(relay.fromUpstream(), true);
      return answered.length >= 3;
    }, 20_000, () => consumer.logTail());
    const sent = await heartbeats(relay.fromClients(), false);
    assert.deepEqual(answered, sent.slice(0, answered.length), "each heartbeat answered, in order, with its own id");
    assert.equal(echoed(await consumer.call({ port: relay.port, method: "echo", arg: "after", timeout: TIMEOUT })).arg, "after");
    const stats = await envoy.prometheus();
    assert.equal(stats.get("meltemi_connections_total"), 1);
    assert.equal(sumOf(stats, "meltemi_decode_errors_total"), 0);
    assert.equal(sumOf(stats, "meltemi_requests_total"), 2, "heartbeats are not requests");
  });
});

test("perConnection: a dubbo-go consumer through Envoy (tcp_proxy), routed by method, a denied call as an error, the connection lives on", async (t) => {
  const classpath = peersClasspath();
  const [p1, p2] = await Promise.all([startProvider(classpath), startProvider(classpath)]);
  t.after(() => { p1.process.kill(); p2.process.kill(); });
  const config = {
    version: 1,
    name: "greeter",
    protocol: "dubbo",
    routingMode: "perConnection",
    routes: [
      { name: "echo-to-v2", match: { method: { exact: "echo" } }, destinations: [{ cluster: V2 }], requestMutation: [{ key: "x-routed-by", value: "meltemi" }] },
      { name: "rest", destinations: [{ cluster: V1 }] },
    ],
    authorization: [{ name: "no-fail", action: "DENY", rules: [{ to: [{ methods: ["fail"] }] }] }],
  };
  const bootstrap = listenerBootstrap(
    [wasmNetworkFilter({ pluginConfig: config }), tcpProxyFilter({ statPrefix: "greeter", cluster: V1, earlyDataBytes: 65536 })],
    [staticCluster(V1, p1.port), staticCluster(V2, p2.port)],
  );
  await withEnvoy({ bootstrap, concurrency: 2 }, async (envoy) => {
    const port = await envoy.listenerPort("meltemi");
    // One connection (dubbo-go's default pool would spread the calls over up to 16, each routed by its own first request).
    const consumer = new DubboGoConsumer(binary, { connections: 1 });
    t.after(() => consumer.kill());

    const first = echoed(await consumer.call({ port, method: "echo", arg: "one", timeout: TIMEOUT }));
    assert.equal(first.arg, "one");
    assert.equal(first["att:x-routed-by"], "meltemi", "the provider received the attachment Meltemi added");

    const denied = await consumer.call({ port, method: "fail", arg: "boom", timeout: TIMEOUT });
    assert.equal(denied.ok, false);
    assert.match(denied.error ?? "", /meltemi: unauthorized \(no-fail\)/, JSON.stringify(denied));
    t.diagnostic(`dubbo-go's error for the denied call: ${denied.error}`);

    const after = echoed(await consumer.call({ port, method: "echo", arg: "after", timeout: TIMEOUT }));
    assert.equal(after.arg, "after", "the call after the denied one, on the same connection");
    assert.equal(after["att:x-routed-by"], "meltemi");

    const blue = echoed(await consumer.call({ port, method: "echo", arg: "blue", group: "blue", version: "1.0.0", timeout: TIMEOUT, attachments: { "x-user": "vip-1" } }));
    assert.equal(blue.arg, "blue");
    assert.equal(blue["att:x-user"], "vip-1");
    // The provider exports group blue only as version 1.0.0: version and group arrive as dubbo-go sent them.
    const missing = await consumer.call({ port, method: "echo", arg: "x", group: "blue", version: "9.9.9", timeout: TIMEOUT });
    assert.equal(missing.ok, false);
    assert.match(missing.error ?? "", NOT_EXPORTED, JSON.stringify(missing));

    const nothing = await consumer.call({ port, method: "nothing", arg: "n", timeout: TIMEOUT });
    assert.equal(nothing.ok, true, JSON.stringify(nothing));

    const stats = await envoy.prometheus();
    assert.equal(stats.get("meltemi_connections_total"), 1, "every call, over both references, on the one connection");
    assert.equal(sumOf(stats, "meltemi_requests_total"), 6);
    assert.equal(sumOf(stats, "meltemi_rejections_total"), 1);
    assert.equal(await envoy.stat(`cluster.${V2}.upstream_cx_total`), 1, "the first request (echo) picked v2 for the connection");
    assert.equal(await envoy.stat(`cluster.${V1}.upstream_cx_total`), 0);
  });
});

test("perRequest: dubbo-go with its default connection pool through Envoy (dubbo_proxy), each request to the provider Meltemi chose (method, group+version, attachment)", async (t) => {
  const classpath = peersClasspath();
  const [p1, p2] = await Promise.all([startProvider(classpath), startProvider(classpath)]);
  t.after(() => { p1.process.kill(); p2.process.kill(); });
  const config = {
    version: 1,
    name: "greeter",
    protocol: "dubbo",
    routingMode: "perRequest",
    routes: [
      { name: "blue-to-v1", match: { method: { exact: "echo" }, group: { exact: "blue" }, version: { exact: "1.0.0" } }, destinations: [{ cluster: V1 }] },
      { name: "vip-to-v1", match: { method: { exact: "echo" }, "x-user": { prefix: "vip-" } }, destinations: [{ cluster: V1 }] },
      { name: "echo-to-v2", match: { method: { exact: "echo" } }, destinations: [{ cluster: V2 }] },
      { name: "rest-to-v1", destinations: [{ cluster: V1 }] },
    ],
    authorization: [{ name: "no-fail", action: "DENY", rules: [{ to: [{ methods: ["fail"] }] }] }],
  };
  const bootstrap = listenerBootstrap(
    [wasmNetworkFilter({ pluginConfig: config }), dubboProxyFilter({ statPrefix: "greeter", routeConfigName: "greeter", clusters: [V1, V2] })],
    [staticCluster(V1, p1.port), staticCluster(V2, p2.port)],
  );
  await withEnvoy({ bootstrap, concurrency: 2 }, async (envoy) => {
    const port = await envoy.listenerPort("meltemi");
    // dubbo-go's defaults: a pool of connections, each call on a random one; every request is routed on its own.
    const consumer = new DubboGoConsumer(binary);
    t.after(() => consumer.kill());

    const echo = echoed(await consumer.call({ port, method: "echo", arg: "to v2", timeout: TIMEOUT }));
    assert.equal(echo["att:x-meltemi-cluster"], V2, "the provider saw the routing key");
    const nothing = await consumer.call({ port, method: "nothing", arg: "n", timeout: TIMEOUT });
    assert.equal(nothing.ok, true, JSON.stringify(nothing));
    const denied = await consumer.call({ port, method: "fail", arg: "x", timeout: TIMEOUT });
    assert.equal(denied.ok, false);
    assert.match(denied.error ?? "", /meltemi: unauthorized \(no-fail\)/, JSON.stringify(denied));
    const again = echoed(await consumer.call({ port, method: "echo", arg: "again", timeout: TIMEOUT }));
    assert.equal(again.arg, "again");
    assert.equal(again["att:x-meltemi-cluster"], V2);
    const vip = echoed(await consumer.call({ port, method: "echo", arg: "vip", timeout: TIMEOUT, attachments: { "x-user": "vip-42" } }));
    assert.equal(vip["att:x-meltemi-cluster"], V1, "routed by the context attachment");
    const blue = echoed(await consumer.call({ port, method: "echo", arg: "blue", group: "blue", version: "1.0.0", timeout: TIMEOUT }));
    assert.equal(blue.arg, "blue");
    assert.equal(blue["att:x-meltemi-cluster"], V1, "routed by group and version");

    const stats = await envoy.prometheus();
    t.diagnostic(`dubbo-go's connections: ${stats.get("meltemi_connections_total")}`);
    assert.equal(sumOf(stats, "meltemi_requests_total"), 6);
    assert.equal(sumOf(stats, "meltemi_rejections_total"), 1);
    assert.equal(await envoy.stat(`cluster.${V2}.upstream_rq_total`), 2, "both plain echo calls went to v2");
    assert.equal(await envoy.stat(`cluster.${V1}.upstream_rq_total`), 3, "nothing, the vip echo and the blue echo went to v1");
    // The denied call reached dubbo_proxy as a heartbeat probe, which it answers itself.
    assert.equal(await envoy.stat("dubbo.greeter.request_event"), 1);
  });
});
