// A malformed request in the real Envoy, from real clients: a call over the filter's frame limit is a
// frame the codec refuses (frame_too_large) but can still identify, so the client gets the protocol's
// error for that call, not an EOF: the npm Thrift client a TApplicationException PROTOCOL_ERROR (7),
// the Java Dubbo consumer a failed call whose cause carries Meltemi's message (status BAD_REQUEST).
// Then the connection closes, and a new connection works. A frame that names no call (a garbage first
// byte) is closed at once, the raw socket sees the close and no bytes. Node-host detail:
// test/filter/malformed-frame.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { tcpProxyFilter } from "../../controller/translate/envoy/tcp_proxy";
import { thriftProxyFilter } from "../../controller/translate/envoy/thrift_proxy";
import { dubboProxyFilter } from "../../controller/translate/envoy/dubbo_proxy";
import { WIRES, call, connect, generated, startServer } from "../codec/thrift/peers";
import { until } from "../wait";
import { Consumer, peersClasspath, startProvider } from "../codec/dubbo/peers";
import { listenerBootstrap, staticCluster, wasmNetworkFilter } from "./bootstrap";
import { withEnvoy } from "./envoy";

const CLUSTER = "outbound|9090|v1|greeter.default.svc.cluster.local";
const MAX_FRAME = 1024;
const BIG = "x".repeat(4 * MAX_FRAME);

function filterConfig(protocol: string, routingMode: string): object {
  return {
    version: 1, name: "greeter", protocol, routingMode, limits: { maxFrameBytes: MAX_FRAME },
    routes: [{ name: "all", destinations: [{ cluster: CLUSTER }] }],
  };
}

const isProtocolError = (e: unknown): boolean => {
  const x = e as { name?: string; type?: number; message?: string };
  return x.name === "TApplicationException" && x.type === 7 && /^meltemi: malformed request \(frame_too_large: /.test(x.message ?? "");
};

// bigFirst: the oversized call is the connection's first request (perConnection: it would have picked
// the cluster; tcp_proxy's default cluster answers the probe).
const cases = [
  { wire: "framed binary", mode: "perConnection", bigFirst: false },
  { wire: "buffered compact", mode: "perConnection", bigFirst: true },
  { wire: "buffered binary", mode: "perRequest", bigFirst: false },
];

for (const c of cases) {
  test(`Thrift ${c.wire}, ${c.mode}: a call over the frame limit${c.bigFirst ? " (the first request)" : ""} gets PROTOCOL_ERROR, then the connection closes`, { timeout: 120_000 }, async (t) => {
    const wire = WIRES.find((w) => w.name === c.wire)!;
    const { Greeter } = generated();
    const server = await startServer(wire, { greeting: "v1" });
    t.after(() => server.close());
    const router = c.mode === "perRequest"
      ? thriftProxyFilter({ statPrefix: "greeter", routeConfigName: "greeter", clusters: [CLUSTER], transport: wire.envoy.transport, protocol: wire.envoy.protocol })
      : tcpProxyFilter({ statPrefix: "greeter", cluster: CLUSTER, earlyDataBytes: 65536 });
    const bootstrap = listenerBootstrap([wasmNetworkFilter({ pluginConfig: filterConfig("thrift", c.mode) }), router], [staticCluster(CLUSTER, server.port)]);
    await withEnvoy({ bootstrap, concurrency: 2 }, async (envoy) => {
      const port = await envoy.listenerPort("meltemi");
      const client = connect(port, wire);
      t.after(() => client.close());
      const greeter = client.client(Greeter);
      if (!c.bigFirst) assert.equal(await call<string>((cb) => greeter.hello("small", cb)), "v1 small");
      await assert.rejects(call((cb) => greeter.hello(BIG, cb)), isProtocolError, "the client gets the protocol's error, not an EOF");
      const socket: net.Socket = client.conn.connection;
      await until("the filter closes the connection", () => socket.destroyed || socket.readableEnded);

      const again = connect(port, wire);
      t.after(() => again.close());
      assert.equal(await call<string>((cb) => again.client(Greeter).hello("next", cb)), "v1 next", "a new connection works");
      assert.equal(await decodeErrors(envoy), 1, "counted once, by reason");
    });
  });
}

/** The decode-error counter, whatever tag form Envoy's Prometheus output gives it. */
async function decodeErrors(envoy: { prometheus(): Promise<Map<string, number>> }): Promise<number | undefined> {
  for (const [k, v] of await envoy.prometheus()) if (k.includes("decode_errors") && k.includes("frame_too_large")) return v;
  return undefined;
}

test("Thrift: a frame that names no call is closed at once: no bytes, a close", { timeout: 60_000 }, async (t) => {
  const wire = WIRES.find((w) => w.name === "framed binary")!;
  const server = await startServer(wire);
  t.after(() => server.close());
  const bootstrap = listenerBootstrap(
    [wasmNetworkFilter({ pluginConfig: filterConfig("thrift", "perConnection") }), tcpProxyFilter({ statPrefix: "greeter", cluster: CLUSTER, earlyDataBytes: 65536 })],
    [staticCluster(CLUSTER, server.port)],
  );
  await withEnvoy({ bootstrap, concurrency: 1 }, async (envoy) => {
    const socket = net.connect(await envoy.listenerPort("meltemi"), "127.0.0.1");
    t.after(() => socket.destroy());
    let received = 0;
    socket.on("data", (d: Buffer) => { received += d.length; });
    socket.on("error", () => {});
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.write(Buffer.from("9001000000000000", "hex"));
    await closed;
    assert.equal(received, 0);
  });
});

test("Dubbo perRequest: the Java consumer's call over the frame limit fails with Meltemi's message, not a closed channel", { timeout: 240_000 }, async (t) => {
  const classpath = peersClasspath();
  const provider = await startProvider(classpath);
  t.after(() => provider.process.kill());
  const consumer = await Consumer.start(classpath);
  t.after(() => consumer.kill());
  const bootstrap = listenerBootstrap(
    [wasmNetworkFilter({ pluginConfig: filterConfig("dubbo", "perRequest") }), dubboProxyFilter({ statPrefix: "greeter", routeConfigName: "greeter", clusters: [CLUSTER] })],
    [staticCluster(CLUSTER, provider.port)],
  );
  await withEnvoy({ bootstrap, concurrency: 2 }, async (envoy) => {
    const port = await envoy.listenerPort("meltemi");
    const ok = await consumer.call({ port, method: "echo", arg: "small", retries: 0, timeout: 10_000 });
    assert.equal(ok.ok, true, JSON.stringify(ok));
    const bad = await consumer.call({ port, method: "echo", arg: BIG, retries: 0, timeout: 10_000 });
    assert.equal(bad.ok, false);
    assert.match(bad.rootMessage ?? "", /meltemi: malformed request \(frame_too_large: Dubbo frame larger than the limit\)/, JSON.stringify(bad));
    // The filter closes that connection on its root's next tick, which can be up to a second away (Envoy
    // applies a new tick period after the running one fires): a call the consumer sends on it meanwhile
    // is dropped, and Dubbo 3 reports such a call as a timeout. So the next call waits for the close.
    // (The listener binds port 0, so its stats carry that address.)
    await until("the connection closed after the error", async () => ((await envoy.stat("listener.127.0.0.1_0.downstream_cx_destroy")) ?? 0) >= 1);
    const after = await consumer.call({ port, method: "echo", arg: "after", retries: 0, timeout: 10_000 });
    assert.equal(after.ok, true, `the consumer reconnects and calls on: ${JSON.stringify(after)}`);
  });
});
