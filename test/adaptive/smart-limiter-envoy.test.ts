// Adaptive rate limits end to end, with real parts: Debian's Prometheus scrapes a test exporter whose
// CPU values the test sets; Meltemi's adaptive engine reads Slime's documented `cpu.sum` query through
// Prometheus' HTTP API every refresh; the SmartLimiter (Slime's documented shape: CPU condition,
// per-pod quota `30/{{._base.pod}}` with 3 ready pods from EndpointSlices) is translated into the
// server-side filter configuration, which is pushed into a real Envoy (LDS file) in front of a real
// Apache Dubbo provider.
//   cpu low  -> no limit (every call of a burst admitted)
//   cpu high -> within two refresh intervals of Prometheus having the value, 10 per pod per second
//   cpu low  -> the limit is lifted
//   Prometheus stopped -> the last quotas hold, the status says why, the failure counter counts.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { AdaptiveEngine, type LimiterResult } from "../../controller/adaptive/engine";
import { AdaptiveMetrics } from "../../controller/adaptive/metrics";
import { adaptiveLimitersOf } from "../../controller/translate/adaptive_limiters";
import { AdaptiveLoop } from "../../controller/adaptive/loop";
import { endpointSlicePods, type EndpointSlice } from "../../controller/adaptive/pods";
import { PrometheusSource } from "../../controller/adaptive/prometheus";
import { DEFAULT_QUERIES } from "../../controller/adaptive/queries";
import { limiterKey, type ResolvedSets } from "../../controller/translate/adaptive_limiter";
import { tcpProxyFilter } from "../../controller/translate/envoy/tcp_proxy";
import { emptySnapshot, type Snapshot } from "../../controller/translate/snapshot";
import { translate } from "../../controller/translate/translate";
import { peersClasspath, startProvider } from "../codec/dubbo/peers";
import { TEST_OPTIONS } from "../controller/support";
import { fileLdsBootstrap, listenerFile, wasmNetworkFilter } from "../envoy/bootstrap";
import { DubboConnection } from "../envoy/dubbo_connection";
import { withEnvoy, type Envoy } from "../envoy/envoy";
import { TestExporter } from "./exporter";
import { Prometheus } from "./prometheus";
import { until } from "../wait";

const REFRESH_MS = 2000;
const PODS = ["greeter-0", "greeter-1", "greeter-2"];

const service = {
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "greeter", namespace: "default" },
  spec: { clusterIP: "10.0.0.9", selector: { app: "greeter" }, ports: [{ name: "tcp-metaprotocol-dubbo", port: 20880, targetPort: 20880 }] },
};

// Slime's documented shapes (slime-io/slime doc/en/smart_limiter.md): a CPU condition over
// `{{.<set>.cpu.sum}}` and a service quota shared out per pod with `/{{._base.pod}}`.
const smartLimiter = {
  apiVersion: "microservice.slime.io/v1alpha2",
  kind: "SmartLimiter",
  metadata: { name: "greeter", namespace: "default" },
  spec: {
    sets: {
      _base: {
        descriptor: [{ action: { fill_interval: { seconds: 1 }, quota: "30/{{._base.pod}}", strategy: "average" }, condition: "{{._base.cpu.sum}}>100", target: { port: 20880 } }],
      },
    },
  },
};

const slices: EndpointSlice[] = [{
  metadata: { name: "greeter-abc", namespace: "default", labels: { "kubernetes.io/service-name": "greeter" } },
  endpoints: [
    ...PODS.map((name) => ({ conditions: { ready: true }, targetRef: { kind: "Pod", name } })),
    { conditions: { ready: false }, targetRef: { kind: "Pod", name: "greeter-3" } },
  ],
}];

function setCpu(exporter: TestExporter, perPod: number): void {
  // Also a pod of another service and a not-ready pod: Slime's query must select only the ready pods.
  for (const pod of [...PODS, "greeter-3", "other-0"]) {
    exporter.set("container_cpu_usage_seconds_total", { namespace: "default", pod, container: "app" }, perPod);
  }
}

function pluginConfigOf(snapshot: Snapshot): object {
  const result = translate(snapshot, TEST_OPTIONS);
  const plugin = result.objects.find((o) => o.kind === "WasmPlugin") as { spec: { pluginConfig: object } } | undefined;
  assert.ok(plugin, `no server WasmPlugin: ${JSON.stringify(result.diagnostics)}`);
  return plugin.spec.pluginConfig;
}

function writeAtomically(file: string, content: object): void {
  fs.writeFileSync(file + ".tmp", JSON.stringify(content));
  fs.renameSync(file + ".tmp", file);
}


/** A burst of 40 calls over 2 fresh connections; how many the provider answered (not limited). */
async function burst(envoy: Envoy, firstId: bigint): Promise<{ admitted: number; rejectedBodies: string[] }> {
  const port = await envoy.listenerPort("meltemi");
  const conns = await Promise.all([DubboConnection.open(port), DubboConnection.open(port)]);
  try {
    for (let i = 0; i < 40; i++) conns[i % 2]!.send(firstId + BigInt(i));
    await until("the burst answered", () => conns[0]!.outcomes.size + conns[1]!.outcomes.size === 40, 30_000);
    const outcomes = conns.flatMap((c) => [...c.outcomes.values()]);
    return { admitted: outcomes.filter((o) => o.ok).length, rejectedBodies: outcomes.filter((o) => !o.ok).map((o) => o.body) };
  } finally {
    conns.forEach((c) => c.close());
  }
}

/** A burst of 40 calls on an existing connection; how many the provider answered. */
async function burstOn(conn: DubboConnection, firstId: bigint): Promise<number> {
  for (let i = 0; i < 40; i++) conn.send(firstId + BigInt(i));
  const ids = Array.from({ length: 40 }, (_, i) => firstId + BigInt(i));
  await until("the burst on the long-lived connection answered", () => ids.every((i) => conn.outcomes.has(i)), 30_000);
  return ids.filter((i) => conn.outcomes.get(i)!.ok).length;
}

/**
 * Bursts on the long-lived connection until `want` holds for the admitted count (its root follows the
 * proxy's newest configuration on a 1 s tick); returns how long that took. Fails after 10 s.
 */
async function followed(conn: DubboConnection, next: () => bigint, want: (admitted: number) => boolean): Promise<number> {
  const start = Date.now();
  for (;;) {
    const admitted = await burstOn(conn, next());
    if (want(admitted)) return Date.now() - start;
    if (Date.now() - start > 10_000) throw new Error(`the connection opened before the change still admits ${admitted} of 40`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

test("SmartLimiter CPU condition with a per-pod quota: Prometheus -> engine -> real Envoy, lifted, held when Prometheus stops", { timeout: 240_000 }, async (t) => {
  const exporter = await TestExporter.start();
  t.after(() => exporter.close());
  setCpu(exporter, 10); // 3 ready pods x 10 = 30: below the condition's 100
  const prometheus = await Prometheus.start([exporter.target]);
  t.after(async () => { await prometheus.stop(); prometheus.cleanup(); });
  const CPU_SUM = 'sum(container_cpu_usage_seconds_total{namespace="default",pod=~"greeter-0|greeter-1|greeter-2"})';
  await prometheus.waitFor(CPU_SUM, (v) => v === 30); // the first scrape has landed
  const provider = await startProvider(peersClasspath());
  t.after(() => provider.process.kill("SIGKILL"));

  const snapshot: Snapshot = { ...emptySnapshot(), services: [service] as never[], smartLimiters: [smartLimiter] };
  const limiters = adaptiveLimitersOf(snapshot);
  assert.equal(limiters.length, 1);
  const engine = new AdaptiveEngine(new PrometheusSource({ url: prometheus.url, timeoutMs: 1000 }), endpointSlicePods({ slices }), { queries: DEFAULT_QUERIES });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meltemi-adaptive-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const lds = path.join(dir, "lds.json");
  let version = 0;
  const push = (quotas: ResolvedSets | undefined): void => {
    const snap: Snapshot = { ...snapshot, adaptiveQuotas: new Map(quotas ? [[limiterKey(limiters[0]!.source), quotas]] : []) };
    const chain = [wasmNetworkFilter({ pluginConfig: pluginConfigOf(snap) }), tcpProxyFilter({ statPrefix: "greeter", cluster: "upstream", earlyDataBytes: 65536 })];
    writeAtomically(lds, listenerFile(chain, String(++version)));
  };
  push(undefined);

  await withEnvoy({ bootstrap: fileLdsBootstrap(lds, provider.port), concurrency: 2 }, async (envoy) => {
    const ldsApplied = async (n: number): Promise<boolean> => new RegExp(`update_success: ${n}\\b`).test(await envoy.admin("/stats?filter=listener_manager.lds.update_success"));
    await until("the first listener", () => ldsApplied(1), 30_000);
    // One connection that lives through every update: quota changes must not drop it.
    const longLived = await DubboConnection.open(await envoy.listenerPort("meltemi"));
    t.after(() => longLived.close());

    // Every round: what the engine read and decided; a change is pushed into Envoy at once.
    const rounds: { at: number; cpuSum?: string; result: LimiterResult; pushedVersion?: number }[] = [];
    const loop = new AdaptiveLoop(engine, {
      intervalMs: REFRESH_MS,
      limiters: () => limiters,
      onResults: async ([r]) => {
        const entry: (typeof rounds)[number] = { at: Date.now(), cpuSum: r!.status.metricStatus["_base.cpu.sum"], result: r! };
        if (r!.changed) {
          push(r!.quotas);
          entry.pushedVersion = version;
        }
        rounds.push(entry);
      },
    });
    t.after(() => loop.stop());
    loop.start();

    // 1. CPU low: the engine reads 30 and 3 pods; no limit.
    await until("a first round", () => rounds.length >= 1, 30_000);
    assert.equal(rounds[0]!.result.status.metricStatus["_base.pod"], "3");
    assert.equal(rounds[0]!.result.status.metricStatus["_base.cpu.sum"], "30");
    assert.deepEqual(rounds[0]!.result.status.ratelimitStatus, {});
    let id = 1n;
    let b = await burst(envoy, id);
    id += 100n;
    assert.equal(b.admitted, 40, "no limit while the condition is false");

    // 2. CPU high (3 x 50 = 150 > 100): the limit follows within two refresh intervals of Prometheus
    //    having the value; each pod admits 30/3 = 10 per second.
    setCpu(exporter, 50);
    await prometheus.waitFor(CPU_SUM, (v) => v === 150);
    const seenAt = Date.now();
    await until("the limit pushed", () => rounds.some((r) => r.pushedVersion !== undefined && r.at >= seenAt), 4 * REFRESH_MS + 5000);
    const limitRound = rounds.find((r) => r.pushedVersion !== undefined && r.at >= seenAt)!;
    const firstSeen = rounds.findIndex((r) => r.cpuSum === "150");
    assert.ok(rounds.indexOf(limitRound) - firstSeen <= 1, `the limit came ${rounds.indexOf(limitRound) - firstSeen} rounds after the engine first read 150 (2 confirmations: at most the next round)`);
    assert.ok(limitRound.at - seenAt <= 2 * REFRESH_MS + 1000, `limit decided ${limitRound.at - seenAt} ms after Prometheus had the value (refresh ${REFRESH_MS} ms)`);
    assert.deepEqual(limitRound.result.status.ratelimitStatus, { _base: { descriptor: [{ action: { quota: "10", fill_interval: { seconds: 1 }, strategy: "average" } }] } });
    await until("Envoy applies the limit", () => ldsApplied(limitRound.pushedVersion!), 30_000);
    // Enforced within two refresh intervals of Prometheus having the value (plus Envoy's file watch).
    const enforcedAfter = Date.now() - seenAt;
    assert.ok(enforcedAfter <= 2 * REFRESH_MS + 2000, `limit in force in Envoy ${enforcedAfter} ms after Prometheus had the value`);
    b = await burst(envoy, id);
    id += 100n;
    assert.ok(b.admitted >= 10 && b.admitted <= 20, `admitted ${b.admitted} of a burst of 40 at 10 per second per pod`);
    for (const body of b.rejectedBodies) assert.match(body, /rate limit exceeded/);
    // The connection opened before the limit is limited too, without being dropped.
    let longId = 1_000_000n;
    const nextLong = (): bigint => { longId += 100n; return longId; };
    const limitFollowedMs = await followed(longLived, nextLong, (n) => n <= 20);

    // 3. CPU low again: the limit is lifted.
    setCpu(exporter, 10);
    await prometheus.waitFor(CPU_SUM, (v) => v === 30);
    const lowAt = Date.now();
    await until("the lift pushed", () => rounds.some((r) => r.pushedVersion !== undefined && r.at >= lowAt), 4 * REFRESH_MS + 5000);
    const liftRound = rounds.find((r) => r.pushedVersion !== undefined && r.at >= lowAt)!;
    assert.deepEqual(liftRound.result.status.ratelimitStatus, {});
    await until("Envoy lifts the limit", () => ldsApplied(liftRound.pushedVersion!), 30_000);
    b = await burst(envoy, id);
    id += 100n;
    assert.equal(b.admitted, 40, "limit lifted");
    const liftFollowedMs = await followed(longLived, nextLong, (n) => n === 40);

    // 4. High again, then Prometheus stops: the last quotas hold and the status says why.
    setCpu(exporter, 50);
    await prometheus.waitFor(CPU_SUM, (v) => v === 150);
    const highAt = Date.now();
    await until("the limit pushed again", () => rounds.some((r) => r.pushedVersion !== undefined && r.at >= highAt), 4 * REFRESH_MS + 5000);
    const again = rounds.find((r) => r.pushedVersion !== undefined && r.at >= highAt)!;
    await until("Envoy applies the limit again", () => ldsApplied(again.pushedVersion!), 30_000);
    await prometheus.stop();
    const stoppedAt = Date.now();
    const isDark = (r: (typeof rounds)[number]) => r.at > stoppedAt && r.result.status.conditions.some((c) => c.type === "MetricsAvailable" && c.status === "False");
    await until("a round without Prometheus", () => rounds.some(isDark), 3 * REFRESH_MS + 2000);
    const dark = rounds.find(isDark)!;
    const metricsCondition = dark.result.status.conditions.find((c) => c.type === "MetricsAvailable")!;
    assert.equal(metricsCondition.status, "False");
    assert.equal(metricsCondition.reason, "PrometheusUnreachable");
    assert.match(metricsCondition.message, /the last good quotas stay in force/);
    assert.ok(rounds.filter((r) => r.at > stoppedAt).every((r) => r.pushedVersion === undefined), "nothing pushed without metrics");
    assert.deepEqual(dark.result.status.ratelimitStatus, { _base: { descriptor: [{ action: { quota: "10", fill_interval: { seconds: 1 }, strategy: "average" } }] } });
    assert.ok((await AdaptiveMetrics.value(engine.metrics.queryFailures, { reason: "PrometheusUnreachable" })) >= 1);
    assert.match(await engine.metrics.registry.metrics(), /meltemi_adaptive_metric_failures_total\{reason="PrometheusUnreachable"\} [1-9]/);
    b = await burst(envoy, id);
    assert.ok(b.admitted >= 10 && b.admitted <= 20, `Prometheus down: still limited, admitted ${b.admitted} of 40`);

    assert.ok(!longLived.closed, "the connection opened before every quota change is still open");
    // The same limit text again: Envoy reuses the earlier root without configuring it, which claims the
    // configuration as the newest at its first new connection (the burst above); this one follows.
    await followed(longLived, nextLong, (n) => n <= 20);
    console.log(`rounds: ${rounds.map((r) => `${r.cpuSum ?? "-"}${r.pushedVersion ? `->v${r.pushedVersion}` : ""}`).join(" ")}; ` +
      `limit decided ${limitRound.at - seenAt} ms and in force in Envoy ${enforcedAfter} ms after Prometheus had the value; ` +
      `the long-lived connection followed the limit within ${limitFollowedMs} ms, the lift within ${liftFollowedMs} ms`);
  });
});
