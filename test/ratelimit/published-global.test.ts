// Aeraki's and Slime's published global rate limit samples (test/controller/testdata/published/),
// translated by the controller and run as translated: the WasmPlugin's filter configuration in the real
// Envoy, Dubbo calls through it, the real rate limit service on a real Redis counting them. For Slime
// the service runs on the ConfigMap the controller generated from the same SmartLimiter; for Aeraki on
// the demo's own configuration (the user's, as Aeraki leaves it). One Envoy (one pod): the filter admits
// exactly the limit within a window (docs/global-rate-limit.md "The bound": exact for one proxy).
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { tcpProxyFilter } from "../../controller/translate/envoy/tcp_proxy";
import { loadObjects } from "../../controller/render/load";
import { classify } from "../../controller/render/classify";
import { translate } from "../../controller/translate/translate";
import { dubboAnswer } from "../codec/dubbo/frames";
import { startFakeProvider, waitUntil } from "../codec/dubbo/peers";
import { listenerBootstrap, staticCluster, wasmNetworkFilter } from "../envoy/bootstrap";
import { DubboConnection } from "../envoy/dubbo_connection";
import { repoRoot, withEnvoy } from "../envoy/envoy";
import { TEST_OPTIONS } from "../controller/support";
import { rlsCluster } from "./global_pods";
import { Redis } from "./redis";
import { RateLimitService, ratelimitDir } from "./service";

const published = path.join(repoRoot, "test/controller/testdata/published");

async function translated(files: string[], namespace: string) {
  const { snapshot } = classify(await loadObjects(files.map((f) => path.join(published, f)), async () => ""), namespace);
  return translate(snapshot, TEST_OPTIONS);
}

/** The service's windows are calendar minutes here: a run starting near a minute's end waits for the next. */
async function awayFromMinuteEnd(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 15_000) await new Promise((r) => setTimeout(r, left + 500));
}

/** Runs `pluginConfig` in one Envoy in front of a fake Dubbo provider; sends `count` calls of `method`, `gapMs` apart. */
async function run(pluginConfig: { globalLimits: { cluster: string }[] }, grpcPort: number, method: string, count: number, gapMs: number) {
  const provider = await startFakeProvider(async (f) => dubboAnswer(f));
  try {
    const bootstrap = listenerBootstrap(
      [wasmNetworkFilter({ pluginConfig }), tcpProxyFilter({ statPrefix: "demo", cluster: "upstream", earlyDataBytes: 65536 })],
      [staticCluster("upstream", provider.port), rlsCluster(grpcPort, pluginConfig.globalLimits[0]!.cluster)],
    );
    return await withEnvoy({ bootstrap, concurrency: 2 }, async (envoy) => {
      const conns = await Promise.all([0, 1].map(async () => DubboConnection.open(await envoy.listenerPort("meltemi"))));
      try {
        for (let i = 1; i <= count; i++) {
          conns[i % 2]!.send(BigInt(i), method);
          await new Promise((r) => setTimeout(r, gapMs));
        }
        await waitUntil("every call answered", () => conns.reduce((n, c) => n + c.outcomes.size, 0), (n) => n === count);
        return conns.flatMap((c) => [...c.outcomes.values()]).sort((a, b) => Number(a.id - b.id));
      } finally {
        for (const c of conns) c.close();
      }
    });
  } finally {
    await provider.close();
  }
}

test("Aeraki demo/metaprotocol-dubbo global-ratelimit, as translated: sayHello 10 per minute on the demo's own service configuration, fail closed until the first answer", { timeout: 120_000 }, async (t) => {
  ratelimitDir();
  const result = await translated(["aeraki-metaprotocol-dubbo/base", "aeraki-metaprotocol-dubbo/metarouter-global-ratelimit.yaml"], "default");
  const plugin = result.objects.find((o) => o.kind === "WasmPlugin" && (o.spec as any).pluginConfig.globalLimits) as any;
  const pluginConfig = plugin.spec.pluginConfig;
  // The demo's configuration (demo/metaprotocol-dubbo/rate-limit-server/config.yaml, the user's).
  const configYaml = "domain: production\ndescriptors:\n  - key: method\n    value: sayHello\n    rate_limit:\n      unit: minute\n      requests_per_unit: 10\n";
  const redis = await Redis.start();
  t.after(() => redis.cleanup());
  const service = await RateLimitService.start({ redisUrl: redis.url, domain: "production", descriptors: [], configYaml });
  t.after(() => service.cleanup());
  await awayFromMinuteEnd();
  const outcomes = await run(pluginConfig, service.grpcPort, "sayHello", 30, 100);
  const admitted = outcomes.filter((o) => o.ok).length;
  const unanswered = outcomes.filter((o) => /service unavailable/.test(o.body)).length;
  t.diagnostic(`30 sayHello calls over 3 s: ${admitted} admitted, ${unanswered} rejected before the first answer (fail closed), ${30 - admitted - unanswered} over the limit`);
  assert.equal(admitted, 10, "exactly the limit: one pod knows what is left");
  for (const o of outcomes.filter((o) => !o.ok)) assert.match(o.body, /meltemi: global rate limit (exceeded|service unavailable)/);
  const other = await run(pluginConfig, service.grpcPort, "sayGoodbye", 3, 10);
  assert.deepEqual(other.map((o) => o.ok), [true, true, true], "calls the MetaRouter's match does not hold for are not limited");
});

test("Slime's global SmartLimiter, as translated: the filter and the rate limit service run on the WasmPlugin and the ConfigMap generated from it: 100 per minute, fail open", { timeout: 120_000 }, async (t) => {
  ratelimitDir();
  const result = await translated(["slime-limiter/service.yaml", "slime-limiter/smartlimiter-global.yaml"], "default");
  const pluginConfig = (result.objects.find((o) => o.kind === "WasmPlugin") as any).spec.pluginConfig;
  const configMap = result.objects.find((o) => o.kind === "ConfigMap") as unknown as { data: Record<string, string> };
  const configYaml = configMap.data["config.yaml"]!;
  const domain = (parseYaml(configYaml) as { domain: string }).domain;
  const redis = await Redis.start();
  t.after(() => redis.cleanup());
  // Mounted as the kubelet mounts a ConfigMap (RUNTIME_IGNOREDOTFILES: test/ratelimit/configmap.test.ts).
  const service = await RateLimitService.start({ redisUrl: redis.url, domain, descriptors: [], configYaml, configLayout: "configmap", ignoreDotFiles: true });
  t.after(() => service.cleanup());
  await awayFromMinuteEnd();
  const outcomes = await run(pluginConfig, service.grpcPort, "echo", 130, 8);
  const admitted = outcomes.filter((o) => o.ok).length;
  t.diagnostic(`130 calls over about 1 s: ${admitted} admitted (limit 100 per minute, from the generated ConfigMap)`);
  assert.equal(admitted, 100, "exactly the limit: the hits admitted before the first answer (fail open) are reported and counted");
  for (const o of outcomes.filter((o) => !o.ok)) assert.match(o.body, /meltemi: global rate limit exceeded/);
});
