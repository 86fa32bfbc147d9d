// Global limits in the real Envoy, Dubbo, both fail modes: two Envoys ("pods", 2 workers each, Meltemi in
// front of tcp_proxy to a real Apache Dubbo provider) share one limit of N per second counted by the
// real rate limit service on a real Redis (global_pods.ts: the scenario, the bound and the figures
// printed). Then the service stops mid-run (fail open: every call admitted once no verdict is in force;
// fail closed: every call rejected), comes back, and (fail open) Redis restarts.
import { type TestContext, test } from "node:test";
import assert from "node:assert/strict";
import { tcpProxyFilter } from "../../controller/translate/envoy/tcp_proxy";
import { peersClasspath, startProvider } from "../codec/dubbo/peers";
import { listenerBootstrap, staticCluster, wasmNetworkFilter } from "../envoy/bootstrap";
import { DubboConnection } from "../envoy/dubbo_connection";
import { withEnvoy } from "../envoy/envoy";
import { DOMAIN, assertWithinBound, describe, globalLimit, globalStat, load, nextWindow, outageAndRecovery, rlsCluster, serviceDescriptors, windows } from "./global_pods";
import { Redis } from "./redis";
import { RateLimitService, ratelimitDir } from "./service";

const CLUSTER = "outbound|20880||greeter.default.svc.cluster.local";
const CONNECTIONS_PER_POD = 2;

type Mode = "open" | "closed";

async function scenario(t: TestContext, failMode: Mode, redisRestart: boolean): Promise<void> {
  ratelimitDir();
  const provider = await startProvider(peersClasspath());
  t.after(() => provider.process.kill());
  const redis = await Redis.start();
  t.after(() => redis.cleanup());
  const service = await RateLimitService.start({ redisUrl: redis.url, domain: DOMAIN, descriptors: serviceDescriptors("echo"), redisPoolSize: 2 });
  t.after(() => service.cleanup());

  const config = { version: 1, name: "greeter-global-dubbo", protocol: "dubbo", globalLimits: [globalLimit("echo", failMode)] };
  const bootstrap = listenerBootstrap(
    [wasmNetworkFilter({ pluginConfig: config }), tcpProxyFilter({ statPrefix: "greeter", cluster: CLUSTER, earlyDataBytes: 65536 })],
    [staticCluster(CLUSTER, provider.port), rlsCluster(service.grpcPort)],
  );
  await withEnvoy({ bootstrap, concurrency: 2 }, (pod0) => withEnvoy({ bootstrap, concurrency: 2 }, async (pod1) => {
    const envoys = [pod0, pod1];
    const conns = await Promise.all(envoys.map(async (e) => {
      const port = await e.listenerPort("meltemi");
      return Promise.all(Array.from({ length: CONNECTIONS_PER_POD }, () => DubboConnection.open(port)));
    }));
    t.after(() => conns.flat().forEach((c) => c.close()));
    let next = 1n;
    const waiting = new Map<bigint, (ok: boolean, body: string) => void>();
    // Outcomes arrive in each connection's map; a poll hands them to the waiting senders.
    const poll = setInterval(() => {
      for (const c of conns.flat()) {
        for (const [id, o] of c.outcomes) {
          const done = waiting.get(id);
          if (done) { waiting.delete(id); c.outcomes.delete(id); done(o.ok, o.body); }
        }
      }
    }, 5);
    t.after(() => clearInterval(poll));
    const send = (pod: number, done: (ok: boolean, body: string) => void): void => {
      const id = next++;
      waiting.set(id, done);
      conns[pod]![Number(id % BigInt(CONNECTIONS_PER_POD))]!.send(id);
    };

    await nextWindow();
    const sent = await load(2, 3500, send);
    const figures = windows(sent, 2);
    t.diagnostic(describe(`Dubbo, fail ${failMode}, 2 pods x 100/s`, figures));
    assertWithinBound("Dubbo", figures);
    for (const s of sent.filter((s) => !s.ok)) assert.match(s.body ?? "", /meltemi: global rate limit (exceeded|service unavailable)/);
    const beforeVerdict = failMode === "open" ? "meltemi_global_fail_open_admitted_total" : "meltemi_global_fail_closed_rejected_total";
    assert.ok(await globalStat(envoys, beforeVerdict) > 0, `the first requests, before a verdict, are decided by the fail mode and counted (${beforeVerdict})`);

    await outageAndRecovery(t, failMode, envoys, service, redisRestart ? redis : null, send);
    assert.ok(conns.flat().every((c) => !c.closed), "no connection closed: rejections are error replies on the connection");
  }));
}

test("Dubbo, 2 pods, fail open: admitted per window within the bound; the service stopped admits all, recovers; Redis restart", { timeout: 240_000 }, (t) => scenario(t, "open", true));

test("Dubbo, 2 pods, fail closed: within the bound; the service stopped rejects all, recovers", { timeout: 240_000 }, (t) => scenario(t, "closed", false));
