// What Meltemi's Thrift codec writes is what Envoy's thrift_proxy (the official binary, as
// scripts/provision/envoy.sh installs it) routes on. A loopback proxy plays the filter's part with the
// codec (test/codec/harness, test/codec/thrift/harness) between real Apache Thrift clients and Envoy,
// and real Thrift servers sit behind Envoy:
// - encodeRouted: "<cluster>:" before the message name, matched by thrift_proxy `service_name`
//   routes with `strip_service_name` (the route table the controller renders, thriftProxyFilter), in
//   every transport and protocol, multiplexed or not;
// - encodeAsHeader: THeader with Meltemi's header, routed by `cluster_header`, Envoy's THeader replies
//   turned back into the client's transport by encodeForClient;
// - encodeProbe: the probe that replaces a rejected call must be ROUTED (to any cluster): the upstream
//   answers it with an exception of the same seqid, which the proxy swaps for Meltemi's error reply.
//   thrift_proxy's own "no route" reply closes the client connection (end_stream: true, Envoy 1.37),
//   taking every other call on it down: the last test pins that down.
import { test } from "node:test";
import assert from "node:assert/strict";
import { thriftProxyFilter } from "../../controller/translate/envoy/thrift_proxy";
import { staticCluster } from "../envoy/bootstrap";
import { withEnvoy } from "../envoy/envoy";
import { decode, encodeError, ErrorKind } from "./harness";
import { asHeader, forClient, probe, routed } from "./thrift/harness";
import net from "node:net";
import { WIRES, Wire, call, connect, encodeWith, generated, startFramingProxy, startServer, thrift } from "./thrift/peers";
import { until } from "../wait";

const TYPE_OPTIONS = "type.googleapis.com/envoy.extensions.filters.network.thrift_proxy.v3.ThriftProtocolOptions";
const cluster = (role: string, i: number): string => `outbound|9090|${role}|w${i}.default.svc.cluster.local`;
const REJECTED = "meltemi: rejected (probe answered by Envoy)";

/** A failure instead of a hang when a step gets no answer (a guard, not a timing assertion). */
function within<T>(what: string, p: Promise<T>, ms = 15_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<T>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer: ${what}`)), ms); });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

function bootstrapOf(listeners: object[], clusters: object[]): object {
  return { admin: { address: { socket_address: { address: "127.0.0.1", port_value: 0 } } }, static_resources: { listeners, clusters } };
}

/**
 * Four calls the proxy routes by seqid parity (odd to v1, even to v2), a call it rejects (with a
 * routed probe), and one more call on the same connection.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function greetAlternately(greeter: any, wire: Wire, rejectedType: number): Promise<void> {
  const expected = (text: string): string => `${greeter.seqid() % 2 ? "v1" : "v2"} ${text}`;
  for (let k = 0; k < 4; k++) {
    const reply = await within(`${wire.name}: hello ${k}`, call<string>((cb) => greeter.hello(`call ${k}`, cb)));
    assert.equal(reply, expected(`call ${k}`), wire.name);
  }
  await assert.rejects(within(`${wire.name}: boom`, call((cb) => greeter.boom("x", cb))),
    (e: { message?: string; type?: number }) => e.message === REJECTED && e.type === rejectedType);
  assert.equal(await within(`${wire.name}: after the rejection`, call<string>((cb) => greeter.hello("after", cb))), expected("after"));
}

function listener(name: string, filter: object): object {
  return { name, address: { socket_address: { address: "127.0.0.1", port_value: 0 } }, filter_chains: [{ filters: [filter] }] };
}

/** A cluster whose upstream speaks `wire` whatever thrift_proxy's downstream transport (THeader here). */
function clusterFor(name: string, port: number, wire: Wire): object {
  return {
    ...staticCluster(name, port),
    typed_extension_protocol_options: {
      "envoy.filters.network.thrift_proxy": { "@type": TYPE_OPTIONS, transport: wire.envoy.transport, protocol: wire.envoy.protocol },
    },
  };
}

test("thrift_proxy routes Meltemi's \"<cluster>:method\" requests of every transport and protocol", { timeout: 180_000 }, async (t) => {
  const { Greeter, Calculator } = generated();
  const listeners: object[] = [];
  const clusters: object[] = [];
  const servers: Awaited<ReturnType<typeof startServer>>[] = [];
  for (const [i, wire] of WIRES.entries()) {
    const v1 = await startServer(wire, { greeting: "v1" });
    const v2 = await startServer(wire, { greeting: "v2" });
    const mux = await startServer(wire, { multiplexed: true });
    servers.push(v1, v2, mux);
    // Envoy's auto detection knows neither a non-strict binary protocol nor the transport around it
    // ("unknown thrift auto transport frame start"): such a port is configured explicitly. Its clusters
    // too: LaxBinaryProtocolImpl reports type() Binary (binary_protocol_impl.h), so "the downstream
    // protocol" upstream is strict binary, and a non-strict reply fails ("invalid binary protocol version").
    const lax = wire.envoy.protocol === "LAX_BINARY";
    const upstream = (name: string, port: number): object => (lax ? clusterFor(name, port, wire) : staticCluster(name, port));
    clusters.push(upstream(cluster("v1", i), v1.port), upstream(cluster("v2", i), v2.port), upstream(cluster("mux", i), mux.port));
    listeners.push(listener(`routed-${i}`, thriftProxyFilter({
      statPrefix: `routed_${i}`, routeConfigName: `routed-${i}`, clusters: [cluster("v1", i), cluster("v2", i), cluster("mux", i)],
      transport: lax ? wire.envoy.transport : "AUTO_TRANSPORT",
      protocol: lax ? "LAX_BINARY" : "AUTO_PROTOCOL",
    })));
  }
  t.after(() => Promise.all(servers.map((s) => s.close())));
  const bootstrap = bootstrapOf(listeners, clusters);

  await withEnvoy({ bootstrap, concurrency: 1 }, async (envoy) => {
    for (const [i, wire] of WIRES.entries()) {
      const port = await envoy.listenerPort(`routed-${i}`);
      // The filter's part: route by seqid parity (see greetAlternately); `boom` is rejected with a probe.
      const pendingErrors = new Map<string, Buffer>();
      const proxy = await startFramingProxy(port, async (frame, f) => {
        if (f.metadata.method === "boom") {
          pendingErrors.set(f.requestId, await encodeError("thrift", frame, ErrorKind.Unauthorized, REJECTED));
          return routed(await probe(frame), cluster("v1", i));
        }
        const target = f.metadata.service === "Calculator" ? cluster("mux", i) : cluster(Number(f.requestId) % 2 ? "v1" : "v2", i);
        return routed(frame, target, { "x-meltemi-cluster": target });
      }, async (frame, f) => {
        const error = pendingErrors.get(f.requestId);
        if (error === undefined) return frame;
        // The upstream answered the probe: TApplicationException UNKNOWN_METHOD, same seqid.
        assert.deepEqual([f.kind, f.metadata.method], ["error", "meltemi-probe"]);
        pendingErrors.delete(f.requestId);
        return error;
      });
      const client = connect(proxy.port, wire);
      try {
        const greeter = client.client(Greeter);
        const calculator = client.client(Calculator, "Calculator");
        await greetAlternately(greeter, wire, 0);
        assert.equal(await within(`${wire.name}: add`, call<number>((cb) => calculator.add(20, 22, cb))), 42, `${wire.name}: multiplexed`);
        greeter.notify("routed note", () => {});
        const v1 = servers[3 * i];
        const v2 = servers[3 * i + 1];
        await until(`${wire.name}: the routed oneway call`, () => [...v1.notes, ...v2.notes].includes("routed note"));
        assert.deepEqual(client.errors, []);
      } finally {
        await client.close();
        await proxy.close();
      }
    }
    assert.equal(await envoy.stat("thrift.routed_0.request_decoding_error"), 0);
  });
});

test("thrift_proxy reads Meltemi's THeader conversion, routes on its header, and its THeader replies convert back", { timeout: 180_000 }, async (t) => {
  const { Greeter } = generated();
  const listeners: object[] = [];
  const clusters: object[] = [];
  const servers: Awaited<ReturnType<typeof startServer>>[] = [];
  for (const [i, wire] of WIRES.entries()) {
    const v1 = await startServer(wire, { greeting: "v1" });
    const v2 = await startServer(wire, { greeting: "v2" });
    servers.push(v1, v2);
    clusters.push(clusterFor(cluster("v1", i), v1.port, wire), clusterFor(cluster("v2", i), v2.port, wire));
    listeners.push(listener(`header-${i}`, {
      name: "envoy.filters.network.thrift_proxy",
      typed_config: {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.thrift_proxy.v3.ThriftProxy",
        stat_prefix: `header_${i}`,
        route_config: { name: `header-${i}`, validate_clusters: false, routes: [{ match: { method_name: "" }, route: { cluster_header: "x-meltemi-cluster" } }] },
      },
    }));
  }
  t.after(() => Promise.all(servers.map((s) => s.close())));
  const bootstrap = bootstrapOf(listeners, clusters);

  await withEnvoy({ bootstrap, concurrency: 1 }, async (envoy) => {
    for (const [i, wire] of WIRES.entries()) {
      const port = await envoy.listenerPort(`header-${i}`);
      const requests = new Map<string, Buffer>();
      const pendingErrors = new Map<string, Buffer>();
      const replies: Buffer[] = [];
      // thrift_proxy pins the transport of a connection on its first frame: every request is converted.
      const proxy = await startFramingProxy(port, async (frame, f) => {
        requests.set(f.requestId, frame);
        if (f.metadata.method === "boom") {
          pendingErrors.set(f.requestId, await encodeError("thrift", frame, ErrorKind.NoRoute, REJECTED));
          return asHeader(await probe(frame), { "x-meltemi-cluster": cluster("v1", i) });
        }
        return asHeader(frame, { "x-meltemi-cluster": cluster(Number(f.requestId) % 2 ? "v1" : "v2", i) });
      }, async (frame, f) => {
        replies.push(frame);
        const error = pendingErrors.get(f.requestId);
        if (error !== undefined) { pendingErrors.delete(f.requestId); return error; }
        const back = await forClient(frame, requests.get(f.requestId)!);
        assert.ok(back.length > 0, "converted back");
        return back;
      });
      const client = connect(proxy.port, wire);
      try {
        const greeter = client.client(Greeter);
        await greetAlternately(greeter, wire, 1);
        assert.deepEqual(client.errors, []);
        // Envoy answered in THeader (its own encoder: header data always padded), in the client's protocol.
        for (const r of replies) {
          assert.equal(r.readUInt16BE(4), 0x0fff, `${wire.name}: a THeader reply`);
          assert.equal((await decode("thrift", r)).error, "");
        }
        assert.equal(replies.length, 6);
      } finally {
        await client.close();
        await proxy.close();
      }
    }
  });
});

test("thrift_proxy's own no-route reply closes the client connection (why the probe must be routed)", { timeout: 60_000 }, async (t) => {
  const wire = WIRES[0];
  const server = await startServer(wire, { greeting: "v1" });
  t.after(() => server.close());
  const v1 = cluster("v1", 0);
  const bootstrap = bootstrapOf([listener("routed", thriftProxyFilter({ statPrefix: "routed", routeConfigName: "routed", clusters: [v1] }))],
    [staticCluster(v1, server.port)]);
  await withEnvoy({ bootstrap, concurrency: 1 }, async (envoy) => {
    const port = await envoy.listenerPort("routed");
    const hello = encodeWith(wire, (p) => {
      p.writeMessageBegin("hello", thrift.Thrift.MessageType.CALL, 41);
      p.writeStructBegin("args"); p.writeFieldStop(); p.writeStructEnd();
      p.writeMessageEnd();
    });
    const socket = net.connect(port, "127.0.0.1");
    t.after(() => { socket.destroy(); });
    let received = Buffer.alloc(0);
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.on("data", (d: Buffer) => { received = Buffer.concat([received, d]); });
    socket.on("error", () => {});
    socket.write(await routed(hello, v1));
    await until("the routed call's reply", async () => (await decode("thrift", received)).frames.length === 1);
    socket.write(await probe(hello));
    await within("Envoy closing the connection", closed);
    const answers = await decode("thrift", received);
    assert.deepEqual(answers.frames.map((f) => [f.kind, f.requestId, f.metadata.method]),
      [["response", "41", "hello"], ["error", "41", "meltemi-probe"]]);
  });
});
