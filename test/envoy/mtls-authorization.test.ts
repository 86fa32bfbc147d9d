// Authorization by the caller's mTLS identity, between TWO real Envoys, as between two sidecars: a
// client-side Envoy originates TLS with a workload certificate (SPIFFE id in the URI SAN, as Istio
// issues them), a server-side Envoy terminates it requiring a client certificate and runs Meltemi in
// perRequest mode in front of thrift_proxy. Meltemi reads the peer identity Envoy exposes
// (`connection.uri_san_peer_certificate`, filter/network/caller.ts): a DENY by principal rejects one
// identity, an ALLOW by namespace (extracted from the SPIFFE id) admits only the "shop" namespace.
// Each identity calls over ONE connection; rejected calls come back as TApplicationExceptions with
// Meltemi's message and the connections stay open. Certificates are made at run time (tls.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { thriftProxyFilter } from "../../controller/translate/envoy/thrift_proxy";
import { WIRES, call, connect, generated, startServer } from "../codec/thrift/peers";
import { staticBootstrap, staticCluster, tcpProxy, wasmNetworkFilter } from "./bootstrap";
import { withEnvoy } from "./envoy";
import { downstreamMtls, makePki, upstreamMtls } from "./tls";

const GREETER = "outbound|9090||greeter.shop.svc.cluster.local";
const SERVER_ID = "spiffe://cluster.local/ns/shop/sa/greeter";
/** The callers: one listener of the client-side Envoy per identity. */
const CALLERS = [
  { name: "frontend", spiffeId: "spiffe://cluster.local/ns/shop/sa/frontend", denial: /meltemi: unauthorized \(no-frontend\)/ },
  { name: "admin", spiffeId: "spiffe://cluster.local/ns/shop/sa/admin", denial: null },
  { name: "reader", spiffeId: "spiffe://cluster.local/ns/guest/sa/reader", denial: /meltemi: unauthorized \(no ALLOW policy matched\)/ },
];

const config = {
  version: 1,
  name: "greeter-authz",
  protocol: "thrift",
  routingMode: "perRequest",
  routes: [{ name: "all", destinations: [{ cluster: GREETER }] }],
  authorization: [
    // Istio principals are the SPIFFE id without "spiffe://".
    { name: "no-frontend", action: "DENY", rules: [{ from: [{ principals: ["cluster.local/ns/shop/sa/frontend"] }] }] },
    { name: "shop-only", action: "ALLOW", rules: [{ from: [{ namespaces: ["shop"] }] }] },
  ],
};

test("mTLS between two Envoys: DENY by peer principal and ALLOW by namespace, over one connection per caller that stays open", { timeout: 120_000 }, async (t) => {
  const wire = WIRES.find((w) => w.name === "framed binary")!;
  const { Greeter } = generated();
  const pki = makePki([{ name: "greeter", spiffeId: SERVER_ID }, ...CALLERS]);
  t.after(() => pki.cleanup());
  const greeter = await startServer(wire, { greeting: "hi" });
  t.after(() => greeter.close());

  const server = staticBootstrap(
    [{
      name: "meltemi",
      transportSocket: downstreamMtls(pki.certs.get("greeter")!, pki.caFile),
      filters: [
        wasmNetworkFilter({ pluginConfig: config }),
        thriftProxyFilter({ statPrefix: "greeter", routeConfigName: "greeter", clusters: [GREETER] }),
      ],
    }],
    [staticCluster(GREETER, greeter.port)],
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
      const conns = await Promise.all(CALLERS.map(async (c) => ({ caller: c, client: connect(await clientEnvoy.listenerPort(c.name), wire) })));
      t.after(() => Promise.all(conns.map((c) => c.client.close())));

      const N = 30;
      await Promise.all(conns.map(async ({ caller, client }) => {
        const g = client.client(Greeter);
        for (let i = 0; i < N; i++) {
          const reply = call<string>((cb) => g.hello(`${caller.name} ${i}`, cb));
          if (caller.denial === null) {
            assert.equal(await reply, `hi ${caller.name} ${i}`);
          } else {
            await assert.rejects(reply, (e: { name?: string; message?: string }) => {
              assert.equal(e.name, "TApplicationException", `${caller.name} call ${i}: ${JSON.stringify(e)}`);
              assert.match(e.message ?? "", caller.denial!);
              return true;
            });
          }
        }
      }));

      for (const { caller, client } of conns) assert.deepEqual(client.errors, [], `${caller.name}: connection errors`);
      const stats = await serverEnvoy.prometheus();
      assert.equal(stats.get("meltemi_connections_total"), CALLERS.length, "one connection per caller reached the server side");
      assert.equal(stats.get("meltemi_active_connections"), CALLERS.length, "every connection is still open");
      assert.equal(stats.get("meltemi_rejections_total"), N * CALLERS.filter((c) => c.denial !== null).length);
      // Stats of a listener bound to port 0 are named after the configured address.
      assert.equal(await serverEnvoy.stat("listener.127.0.0.1_0.ssl.handshake"), CALLERS.length, "every connection was mTLS");
      assert.equal(await serverEnvoy.stat("listener.127.0.0.1_0.ssl.no_certificate"), 0);
    });
  });
});
