// Global limits in the real Envoy, Thrift, both fail modes: two Envoys ("pods", 2 workers each, Meltemi in
// front of thrift_proxy) share one limit of N per second counted by the real rate limit service on a
// real Redis (global_pods.ts: the scenario, the bound and the figures printed). Then the service stops
// mid-run (fail closed: every call rejected once no verdict is in force; fail open: every call admitted),
// comes back, and (fail closed) Redis restarts.
import { type TestContext, test } from "node:test";
import assert from "node:assert/strict";
import { thriftProxyFilter } from "../../controller/translate/envoy/thrift_proxy";
import { WIRES, connect, generated, startServer } from "../codec/thrift/peers";
import { until } from "../wait";
import { listenerBootstrap, staticCluster, wasmNetworkFilter } from "../envoy/bootstrap";
import { withEnvoy } from "../envoy/envoy";
import { DOMAIN, REPORT_INTERVAL_MS, assertWithinBound, describe, globalLimit, globalStat, load, nextWindow, outageAndRecovery, rlsCluster, serviceDescriptors, windows } from "./global_pods";
import { Redis } from "./redis";
import { RateLimitService, ratelimitDir } from "./service";

const CLUSTER = "outbound|9090||greeter.default.svc.cluster.local";
const CONNECTIONS_PER_POD = 2;

type Mode = "open" | "closed";

async function scenario(t: TestContext, failMode: Mode, redisRestart: boolean): Promise<void> {
  ratelimitDir();
  const wire = WIRES.find((w) => w.name === "framed binary")!;
  const { Greeter } = generated();
  const server = await startServer(wire, { greeting: "hi" });
  t.after(() => server.close());
  const redis = await Redis.start();
  t.after(() => redis.cleanup());
  const service = await RateLimitService.start({ redisUrl: redis.url, domain: DOMAIN, descriptors: serviceDescriptors("hello"), redisPoolSize: 2 });
  t.after(() => service.cleanup());

  const config = {
    version: 1,
    name: "greeter-global-thrift",
    protocol: "thrift",
    routingMode: "perRequest",
    routes: [{ name: "all", destinations: [{ cluster: CLUSTER }] }],
    globalLimits: [globalLimit("hello", failMode)],
  };
  const bootstrap = listenerBootstrap(
    [wasmNetworkFilter({ pluginConfig: config }), thriftProxyFilter({ statPrefix: "greeter", routeConfigName: "greeter", clusters: [CLUSTER] })],
    [staticCluster(CLUSTER, server.port), rlsCluster(service.grpcPort)],
  );
  await withEnvoy({ bootstrap, concurrency: 2 }, (pod0) => withEnvoy({ bootstrap, concurrency: 2 }, async (pod1) => {
    const envoys = [pod0, pod1];
    const clients = await Promise.all(envoys.map(async (e) => {
      const port = await e.listenerPort("meltemi");
      return Array.from({ length: CONNECTIONS_PER_POD }, () => connect(port, wire));
    }));
    t.after(() => Promise.all(clients.flat().map((c) => c.close())));
    await until("all connections up", () => clients.flat().every((c) => c.conn.connected));
    const greeters = clients.map((cs) => cs.map((c) => c.client(Greeter)));
    let n = 0;
    const send = (pod: number, done: (ok: boolean, body: string) => void): void => {
      const name = `n${n++}`;
      greeters[pod]![n % CONNECTIONS_PER_POD]!.hello(name, (err: { message?: string } | null, reply: string) => {
        if (err) done(false, err.message ?? String(err));
        else done(reply === `hi ${name}`, reply);
      });
    };

    // Fail closed: the first requests wait for a verdict (rejected); fail open admits them and reports them.
    await nextWindow();
    const sent = await load(2, 3500, send);
    const figures = windows(sent, 2);
    t.diagnostic(describe(`Thrift, fail ${failMode}, 2 pods x 100/s`, figures));
    assertWithinBound("Thrift", figures);
    for (const s of sent.filter((s) => !s.ok)) assert.match(s.body ?? "", /meltemi: global rate limit (exceeded|service unavailable)/);
    const reports = await globalStat(envoys, "meltemi_global_reports_ok_total") + await globalStat(envoys, "meltemi_global_reports_failed_total");
    const seconds = (sent[sent.length - 1]!.at - sent[0]!.at) / 1000;
    // One report per pod per interval (each with 2 workers and a main thread ticking), 4/5 T at the closest.
    const most = 2 * Math.ceil((seconds * 1000) / (0.8 * REPORT_INTERVAL_MS) + 1);
    t.diagnostic(`reports: ${reports} over ${seconds} s by 2 pods (T = ${REPORT_INTERVAL_MS} ms; at most ${most})`);
    assert.ok(reports > 0 && reports <= most, `reports ${reports}`);

    await outageAndRecovery(t, failMode, envoys, service, redisRestart ? redis : null, send);
    for (const c of clients.flat()) assert.deepEqual(c.errors, [], "no connection error: rejections are replies on the connection");
  }));
}

test("Thrift, 2 pods, fail closed: admitted per window within the bound; the service stopped rejects all, recovers; Redis restart", { timeout: 180_000 }, (t) => scenario(t, "closed", true));

test("Thrift, 2 pods, fail open: within the bound; the service stopped admits all, recovers", { timeout: 180_000 }, (t) => scenario(t, "open", false));
