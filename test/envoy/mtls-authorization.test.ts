// Authorization by the caller's mTLS identity, between TWO real Envoys, as between two sidecars: a
// client-side Envoy originates TLS with a workload certificate (SPIFFE id in the URI SAN, as Istio
// issues them), a server-side Envoy terminates it requiring a client certificate and runs Meltemi in
// perRequest mode in front of the native router (thrift_proxy, dubbo_proxy). Meltemi reads the peer
// identity Envoy exposes
// (`connection.uri_san_peer_certificate`, filter/network/caller.ts): a DENY by principal rejects one
// identity, an ALLOW by namespace (extracted from the SPIFFE id) admits only the "shop" namespace.
// Each identity calls over ONE connection with real peers (Apache Thrift, Apache Dubbo); rejected calls
// come back as the protocol's error reply with Meltemi's message (Thrift: TApplicationException; Dubbo:
// a failed call) and the connections stay open. Certificates are made at run time (tls.ts).
import { type TestContext, test } from "node:test";
import assert from "node:assert/strict";
import { dubboProxyFilter } from "../../controller/translate/envoy/dubbo_proxy";
import { thriftProxyFilter } from "../../controller/translate/envoy/thrift_proxy";
import { Consumer, peersClasspath, startProvider } from "../codec/dubbo/peers";
import { WIRES, call, connect, generated, startServer } from "../codec/thrift/peers";
import { staticBootstrap, staticCluster, tcpProxy, wasmNetworkFilter } from "./bootstrap";
import { withEnvoy } from "./envoy";
import { downstreamMtls, makePki, upstreamMtls } from "./tls";

const SERVER_ID = "spiffe://cluster.local/ns/shop/sa/greeter";
/** The callers: one listener of the client-side Envoy per identity. */
const CALLERS = [
  { name: "frontend", spiffeId: "spiffe://cluster.local/ns/shop/sa/frontend", denial: /meltemi: unauthorized \(no-frontend\)/ },
  { name: "admin", spiffeId: "spiffe://cluster.local/ns/shop/sa/admin", denial: null },
  { name: "reader", spiffeId: "spiffe://cluster.local/ns/guest/sa/reader", denial: /meltemi: unauthorized \(no ALLOW policy matched\)/ },
];

function authzConfig(protocol: string, cluster: string): object {
  return {
    version: 1,
    name: `greeter-authz-${protocol}`,
    protocol,
    routingMode: "perRequest",
    routes: [{ name: "all", destinations: [{ cluster }] }],
    authorization: [
      // Istio principals are the SPIFFE id without "spiffe://".
      { name: "no-frontend", action: "DENY", rules: [{ from: [{ principals: ["cluster.local/ns/shop/sa/frontend"] }] }] },
      { name: "shop-only", action: "ALLOW", rules: [{ from: [{ namespaces: ["shop"] }] }] },
    ],
  };
}

type Outcome = { ok: true; reply: string } | { ok: false; error: string; message: string };

interface Session { greet(text: string): Promise<Outcome>; connectionErrors(): unknown[] }

/** One protocol's real peers: `start` runs the upstream server and gives a way to open callers' sessions. */
interface Peers {
  cluster: string;
  router(cluster: string): object;
  /** `open(port)`: a caller keeping ONE connection to `port`; `greet(text)` answers "hi <text>" (Thrift) or echoes it (Dubbo). */
  start(t: TestContext): Promise<{ upstreamPort: number; open(port: number): Session }>;
}

const thriftWire = WIRES.find((w) => w.name === "framed binary")!;
const THRIFT: Peers = {
  cluster: "outbound|9090||greeter.shop.svc.cluster.local",
  router: (cluster) => thriftProxyFilter({ statPrefix: "greeter", routeConfigName: "greeter", clusters: [cluster] }),
  async start(t) {
    const server = await startServer(thriftWire, { greeting: "hi" });
    t.after(() => server.close());
    return {
      upstreamPort: server.port,
      open(port) {
        const client = connect(port, thriftWire);
        t.after(() => client.close());
        const greeter = client.client(generated().Greeter);
        return {
          greet: (text) => call<string>((cb) => greeter.hello(text, cb)).then(
            (reply): Outcome => ({ ok: true, reply }),
            (e: { name?: string; message?: string }): Outcome => ({ ok: false, error: e.name ?? String(e), message: e.message ?? "" }),
          ),
          connectionErrors: () => client.errors,
        };
      },
    };
  },
};

const DUBBO: Peers = {
  cluster: "outbound|20880||greeter.shop.svc.cluster.local",
  router: (cluster) => dubboProxyFilter({ statPrefix: "greeter", routeConfigName: "greeter", clusters: [cluster] }),
  async start(t) {
    const classpath = peersClasspath();
    const [provider, consumer] = await Promise.all([startProvider(classpath), Consumer.start(classpath)]);
    t.after(() => { provider.process.kill(); consumer.kill(); });
    return {
      upstreamPort: provider.port,
      // The consumer keeps one connection per provider address: one per caller's listener.
      open: (port) => ({
        async greet(text) {
          const r = await consumer.call({ port, method: "echo", arg: text, timeout: 5000, retries: 0 });
          if (r.ok) return { ok: true, reply: JSON.stringify(r.result) };
          return { ok: false, error: r.rootClass ?? "", message: r.rootMessage ?? "" };
        },
        connectionErrors: () => [],
      }),
    };
  },
};

const PEERS: [string, Peers, (o: Outcome) => boolean, string][] = [
  ["thrift", THRIFT, (o) => !o.ok && o.error === "TApplicationException", "TApplicationException"],
  ["dubbo", DUBBO, (o) => !o.ok && o.error === "org.apache.dubbo.remoting.RemotingException", "RemotingException (an error status)"],
];

for (const [protocol, peers, isErrorReply, errorReply] of PEERS) {
  test(`${protocol}, mTLS between two Envoys: DENY by peer principal and ALLOW by namespace, over one connection per caller that stays open`, { timeout: 180_000 }, async (t) => {
    const pki = makePki([{ name: "greeter", spiffeId: SERVER_ID }, ...CALLERS]);
    t.after(() => pki.cleanup());
    const { upstreamPort, open } = await peers.start(t);

    const server = staticBootstrap(
      [{
        name: "meltemi",
        transportSocket: downstreamMtls(pki.certs.get("greeter")!, pki.caFile),
        filters: [wasmNetworkFilter({ pluginConfig: authzConfig(protocol, peers.cluster) }), peers.router(peers.cluster)],
      }],
      [staticCluster(peers.cluster, upstreamPort)],
    );
    await withEnvoy({ bootstrap: server, concurrency: 2 }, async (serverEnvoy) => {
      const serverPort = await serverEnvoy.listenerPort("meltemi");
      // The client side: caller X's app connects in plain text to listener X, which forwards over mTLS
      // with X's certificate (what the client's sidecar does).
      const client = staticBootstrap(
        CALLERS.map((c) => ({ name: c.name, filters: [tcpProxy(`as-${c.name}`)] })),
        CALLERS.map((c) => staticCluster(`as-${c.name}`, serverPort, upstreamMtls(pki.certs.get(c.name)!, pki.caFile, SERVER_ID))),
      );
      await withEnvoy({ bootstrap: client, concurrency: 2 }, async (clientEnvoy) => {
        const sessions: { caller: (typeof CALLERS)[number]; session: Session }[] = [];
        for (const c of CALLERS) sessions.push({ caller: c, session: open(await clientEnvoy.listenerPort(c.name)) });

        // The callers take turns, so that denied and admitted calls interleave on the server side.
        const N = 30;
        for (let i = 0; i < N; i++) {
          for (const { caller, session } of sessions) {
            const text = `${caller.name} ${i}`;
            const o = await session.greet(text);
            if (caller.denial === null) {
              assert.ok(o.ok && o.reply.includes(text), `${caller.name} call ${i}: ${JSON.stringify(o)}`);
            } else {
              assert.ok(isErrorReply(o), `${caller.name} call ${i}: expected a ${errorReply}, got ${JSON.stringify(o)}`);
              assert.match((o as { message: string }).message, caller.denial, `${caller.name} call ${i}`);
            }
          }
        }

        for (const { caller, session } of sessions) assert.deepEqual(session.connectionErrors(), [], `${caller.name}: connection errors`);
        const stats = await serverEnvoy.prometheus();
        assert.equal(stats.get("meltemi_connections_total"), CALLERS.length, "one connection per caller reached the server side");
        assert.equal(stats.get("meltemi_active_connections"), CALLERS.length, "every connection is still open");
        assert.equal(await serverEnvoy.wasmStatTotal("meltemi_rejections_total"), N * CALLERS.filter((c) => c.denial !== null).length);
        // Stats of a listener bound to port 0 are named after the configured address.
        assert.equal(await serverEnvoy.stat("listener.127.0.0.1_0.ssl.handshake"), CALLERS.length, "every connection was mTLS");
        assert.equal(await serverEnvoy.stat("listener.127.0.0.1_0.ssl.no_certificate"), 0);
      });
    });
  });
}
