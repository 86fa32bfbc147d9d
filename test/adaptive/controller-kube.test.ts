// `meltemi controller --prometheus-url` against a real kube-apiserver and Debian's Prometheus: a Slime
// SmartLimiter (CRD from manifests/slime/) on a Dubbo service with 3 ready pods (an EndpointSlice; no
// endpoint controller runs here, so the test writes it as one would): the controller writes
// status.metricStatus, puts the CPU-conditioned per-pod quota into the service's WasmPlugin and
// status.ratelimitStatus when the condition holds, lifts it when it stops holding, and says so in a
// MetricsAvailable condition when Prometheus is gone (the WasmPlugin keeps the last quotas). It runs
// with the ServiceAccount of manifests/install/rbac.yaml.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import type { KubeObject } from "../../controller/k8s/objects";
import { withKubeApiserver } from "../kube/apiserver";
import { repoRoot } from "../kube/binaries";
import { Cluster, K } from "../kube/cluster_objects";
import { controllerKubeconfig, startController, waitReady } from "../kube/controller_process";
import { waitFor } from "../wait";
import { installCrds } from "../kube/crds";
import { TestExporter } from "./exporter";
import { Prometheus } from "./prometheus";

const NS = "shop";
const PODS = ["orders-0", "orders-1", "orders-2"];
const SMART_LIMITER = { group: "microservice.slime.io", version: "v1alpha2", plural: "smartlimiters" };
const ENDPOINT_SLICE = { group: "discovery.k8s.io", version: "v1", plural: "endpointslices" };

type Status = { metricStatus?: Record<string, string>; ratelimitStatus?: Record<string, { descriptor: { action: { quota: string } }[] }>; conditions?: { type: string; status: string; reason: string; message: string }[] };

test("meltemi controller: SmartLimiter status and WasmPlugin buckets follow Prometheus", { timeout: 300_000 }, async () => {
  const exporter = await TestExporter.start();
  const setCpu = (v: number) => { for (const pod of PODS) exporter.set("container_cpu_usage_seconds_total", { namespace: NS, pod }, v); };
  setCpu(10);
  const prometheus = await Prometheus.start([exporter.target]);
  try {
    await withKubeApiserver({}, async (kube) => {
      await kube.installIstioCrds();
      const admin = kube.kubeConfig();
      await kube.installMeltemiCrds();
      await installCrds(admin, path.join(repoRoot, "manifests/slime/smartlimiters.microservice.slime.io.yaml"));
      const kubeconfig = await controllerKubeconfig(kube);
      const c = new Cluster(kube);
      await c.create(K.namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
      await c.create(K.service, {
        apiVersion: "v1", kind: "Service", metadata: { name: "orders", namespace: NS },
        spec: { selector: { app: "orders" }, ports: [{ name: "tcp-metaprotocol-dubbo-api", port: 20880, targetPort: 20880 }] },
      });
      await c.create(ENDPOINT_SLICE, {
        apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice",
        metadata: { name: "orders-x1", namespace: NS, labels: { "kubernetes.io/service-name": "orders" } },
        addressType: "IPv4",
        endpoints: [...PODS, "orders-3"].map((name, i) => ({ addresses: [`10.1.0.${i + 1}`], conditions: { ready: name !== "orders-3" }, targetRef: { kind: "Pod", name, namespace: NS } })),
        ports: [{ name: "tcp-metaprotocol-dubbo-api", port: 20880, protocol: "TCP" }],
      } as unknown as KubeObject);
      await c.create(SMART_LIMITER, {
        apiVersion: "microservice.slime.io/v1alpha2", kind: "SmartLimiter", metadata: { name: "orders", namespace: NS },
        spec: { sets: { _base: { descriptor: [{ action: { fill_interval: { seconds: 1 }, quota: "30/{{._base.pod}}", strategy: "average" }, condition: "{{._base.cpu.sum}}>100", target: { port: 20880 } }] } } },
      });

      const ctl = await startController(kubeconfig, "replica-a", ["--prometheus-url", prometheus.url, "--adaptive-refresh", "1", "--adaptive-query-timeout-ms", "800"]);
      try {
        await waitReady(ctl);
        const status = async () => ((await c.get(SMART_LIMITER, NS, "orders"))?.status ?? {}) as Status;
        const bucket = async () => {
          const [wp] = await c.list(K.wasmPlugin, NS);
          return (wp?.spec as { pluginConfig?: { localRateLimit?: { tokenBucket?: { maxTokens: number } } } } | undefined)?.pluginConfig?.localRateLimit?.tokenBucket;
        };

        // CPU low: metrics in status, no limit in the WasmPlugin.
        const low = await waitFor("metricStatus", async () => { const s = await status(); return s.metricStatus?.["_base.cpu.sum"] === "30" ? s : undefined; }, 60_000);
        assert.equal(low.metricStatus!["_base.pod"], "3");
        assert.equal(low.conditions!.find((x) => x.type === "MetricsAvailable")?.status, "True");
        assert.equal(low.conditions!.find((x) => x.type === "Ready")?.status, "True", "the runtime's Ready is kept");
        await waitFor("the WasmPlugin", async () => (await c.list(K.wasmPlugin, NS)).length === 1 || undefined);
        assert.equal(await bucket(), undefined);

        // CPU high: 10 per pod in the WasmPlugin and in ratelimitStatus.
        setCpu(50);
        const limited = await waitFor("the limit", async () => { const b = await bucket(); return b?.maxTokens === 10 ? b : undefined; }, 30_000);
        assert.deepEqual(limited, { maxTokens: 10, tokensPerFill: 10, fillIntervalMs: 1000 });
        await waitFor("ratelimitStatus", async () => (await status()).ratelimitStatus?._base?.descriptor[0]?.action.quota === "10" || undefined, 15_000);

        // CPU low: lifted in both.
        setCpu(10);
        await waitFor("the lift", async () => (await bucket()) === undefined || undefined, 30_000);
        await waitFor("ratelimitStatus emptied", async () => Object.keys((await status()).ratelimitStatus ?? {}).length === 0 || undefined, 15_000);

        // High again, then Prometheus gone: the quotas stay, the condition says why.
        setCpu(50);
        await waitFor("the limit again", async () => (await bucket())?.maxTokens === 10 || undefined, 30_000);
        await prometheus.stop();
        const dark = await waitFor("MetricsAvailable=False", async () => {
          const s = await status();
          return s.conditions?.find((x) => x.type === "MetricsAvailable" && x.status === "False") ? s : undefined;
        }, 30_000);
        const cond = dark.conditions!.find((x) => x.type === "MetricsAvailable")!;
        assert.equal(cond.reason, "PrometheusUnreachable");
        assert.match(cond.message, /the last good quotas stay in force/);
        assert.equal(dark.ratelimitStatus?._base?.descriptor[0]?.action.quota, "10");
        assert.equal((await bucket())?.maxTokens, 10, "the WasmPlugin keeps the last quotas");
        const metricsPort = ctl.entries("serving endpoints").find((e) => e.metrics === true)?.port;
        const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        assert.match(metrics, /meltemi_adaptive_metric_failures_total\{reason="PrometheusUnreachable"\} [1-9]/);

        // A controller restart while Prometheus is gone: the new one starts from status.ratelimitStatus,
        // so the WasmPlugin keeps its bucket through its first reconciles.
        await ctl.stop();
        const ctl2 = await startController(kubeconfig, "replica-b", ["--prometheus-url", prometheus.url, "--adaptive-refresh", "1", "--adaptive-query-timeout-ms", "800"]);
        try {
          await waitReady(ctl2);
          await waitFor("a reconcile by the new replica", () => ctl2.entries("reconciled").length > 0 || undefined);
          for (let i = 0; i < 15; i++) {
            assert.equal((await bucket())?.maxTokens, 10, "the bucket survives the restart");
            await new Promise((r) => setTimeout(r, 200));
          }
          assert.equal((await status()).ratelimitStatus?._base?.descriptor[0]?.action.quota, "10");
        } finally {
          await ctl2.stop();
        }
      } finally {
        await ctl.stop();
      }
    });
  } finally {
    await prometheus.stop();
    prometheus.cleanup();
    await exporter.close();
  }
});
