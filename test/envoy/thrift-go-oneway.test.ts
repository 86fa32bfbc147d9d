// A real Apache Thrift Go client (Go module github.com/apache/thrift, code from Debian's
// thrift-compiler: test/peers/thrift-go) through the real Envoy with the built module. The Go library
// sends oneway methods as CALL and never reads a reply. Here `notify` (oneway in the IDL) is allowed
// once, then rate limited: the first call teaches the filter that notify gets no answer (the answer to
// the next call overtakes it: filter/network/oneway.ts), so the rejected one is dropped silently and
// the connection stays in step: the call after it gets its own reply. Both modes (perConnection through
// tcp_proxy, perRequest through thrift_proxy), framed and buffered transports, each version of the Go
// library that scripts/provision/thrift-go.sh builds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tcpProxyFilter } from "../../controller/translate/envoy/tcp_proxy";
import { thriftProxyFilter } from "../../controller/translate/envoy/thrift_proxy";
import { WIRES, startServer } from "../codec/thrift/peers";
import { until } from "../wait";
import { GoClient, goClientBuilds } from "./thrift_go";
import { listenerBootstrap, staticCluster, wasmNetworkFilter } from "./bootstrap";
import { withEnvoy } from "./envoy";

const CLUSTER = "outbound|9090|v1|greeter.default.svc.cluster.local";

const modes = [
  { mode: "perConnection", proxy: () => tcpProxyFilter({ statPrefix: "greeter", cluster: CLUSTER, earlyDataBytes: 65536 }) },
  { mode: "perRequest", proxy: () => thriftProxyFilter({ statPrefix: "greeter", routeConfigName: "greeter", clusters: [CLUSTER] }) },
] as const;
const wires = [
  { name: "framed binary", transport: "framed", protocol: "binary" },
  { name: "buffered compact", transport: "buffered", protocol: "compact" },
] as const;

const builds = goClientBuilds();

for (const [version, binary] of builds) for (const { mode, proxy } of modes) {
  for (const w of wires) {
    test(`Go client ${version}, ${mode}, ${w.name}: a rejected oneway (sent as CALL) leaves the connection in step`, { timeout: 180_000 }, async (t) => {
      const server = await startServer(WIRES.find((x) => x.name === w.name)!, { greeting: "v1" });
      t.after(() => server.close());
      const config = {
        version: 1, name: "greeter", protocol: "thrift", routingMode: mode,
        routes: [{ name: "all", destinations: [{ cluster: CLUSTER }] }],
        localRateLimit: { conditions: [{ match: { method: { exact: "notify" } }, tokenBucket: { maxTokens: 1, fillIntervalMs: 3_600_000 } }] },
      };
      const bootstrap = listenerBootstrap([wasmNetworkFilter({ pluginConfig: config }), proxy()], [staticCluster(CLUSTER, server.port)]);
      await withEnvoy({ bootstrap, concurrency: 2 }, async (envoy) => {
        const client = new GoClient(binary, await envoy.listenerPort("meltemi"), w.transport, w.protocol);
        t.after(() => client.close());
        assert.deepEqual(await client.run("notify first"), { op: "notify", ok: true });
        await until("the first notify at the server", () => server.notes.includes("first"));
        assert.deepEqual(await client.run("hello a"), { op: "hello", ok: true, result: "v1 a" });
        // Rate limited now: without the fix the filter answers it with an error reply the Go client never
        // reads, and `hello b` reads that reply instead of its own ("wrong method name").
        assert.deepEqual(await client.run("notify second"), { op: "notify", ok: true });
        assert.deepEqual(await client.run("hello b"), { op: "hello", ok: true, result: "v1 b" });
        assert.deepEqual(await client.run("notify third"), { op: "notify", ok: true });
        assert.deepEqual(await client.run("hello c"), { op: "hello", ok: true, result: "v1 c" });
        assert.deepEqual(server.notes, ["first"], "the rate-limited notify calls went nowhere");
        const stats = await envoy.prometheus();
        const rejected = [...stats].filter(([k]) => k.includes("meltemi_requests_total") && k.includes('rpc_method="notify"') && k.includes('rpc_status="over_limit"'));
        assert.equal(rejected.reduce((n, [, v]) => n + v, 0), 2, `over_limit notify requests: ${JSON.stringify(rejected)}`);
      });
    });
  }
}
