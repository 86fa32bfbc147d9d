// Benchmark (not a test): how fast `meltemi controller` converges on a real kube-apiserver.
//   node --import tsx test/kube/converge_bench.ts [services=500]
// Creates N Dubbo Services and N RpcRouters (admin, 8 requests in flight) while the controller runs with
// its ServiceAccount token; prints the time until all 2N outputs exist, the controller's reconcile
// count and time (its /metrics), then restarts the controller and prints the time until it is ready
// again and what its first reconcile wrote (0 expected). Timings vary with the machine.
import { performance } from "node:perf_hooks";
import type { KubeObject } from "../../controller/k8s/objects";
import { forEachLimited } from "../../controller/runtime/parallel";
import { withKubeApiserver } from "./apiserver";
import { Cluster, K } from "./cluster_objects";
import { controllerKubeconfig, startController, waitReady } from "./controller_process";
import { waitFor } from "../wait";

const n = Number(process.argv[2] ?? 500);
const ns = "bench";
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

await withKubeApiserver({}, async (kube) => {
  await kube.installIstioCrds();
  await kube.installMeltemiCrds();
  const kubeconfig = await controllerKubeconfig(kube);
  const c = new Cluster(kube);
  await c.create(K.namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  let ctl = await startController(kubeconfig, "bench-a", ["--log-level", "info"]);
  try {
    await waitReady(ctl, /leader/);
    const names = Array.from({ length: n }, (_, i) => `svc-${i}`);
    const t0 = performance.now();
    await forEachLimited(names, 8, async (name) => {
      await c.create(K.service, { apiVersion: "v1", kind: "Service", metadata: { name, namespace: ns }, spec: { selector: { app: name }, ports: [{ name: "tcp-metaprotocol-dubbo-api", port: 20880, targetPort: 20880 }] } } as KubeObject);
      await c.create(K.rpcRouter, { apiVersion: "meltemi.dev/v1alpha1", kind: "RpcRouter", metadata: { name, namespace: ns }, spec: { host: `${name}.${ns}.svc.cluster.local`, routes: [{ destinations: [{ subset: "v1", weight: 1 }, { subset: "v2", weight: 3 }] }] } } as KubeObject);
    });
    const t1 = performance.now();
    await waitFor("all outputs", async () => ((await c.owned(K.wasmPlugin, ns)).length === n && (await c.owned(K.envoyFilter, ns)).length === n ? true : undefined), 600_000);
    const t2 = performance.now();
    await waitFor("every router's Ready condition", async () => ((await c.list(K.rpcRouter, ns)).every((r) => (r.status as { conditions?: unknown[] } | undefined)?.conditions?.length) ? true : undefined), 600_000);
    const t2s = performance.now();
    const metrics = (await ctl.get("/metrics")).body;
    const metric = (name: string) => metrics.split("\n").find((l) => l.startsWith(name))?.split(" ").pop();
    console.log(`${n} Services + ${n} RpcRouters created in ${s(t1 - t0)}; all ${2 * n} outputs present ${s(t2 - t0)} after the first create (${s(t2 - t1)} after the last); every status written after ${s(t2s - t0)}`);
    console.log(`controller: ${metric('meltemi_reconciles_total{result="success"}')} reconciles, ${Number(metric("meltemi_reconcile_duration_seconds_sum")).toFixed(2)} s in reconciles, ${metric('meltemi_object_writes_total{operation="apply"}')} applies, ${metric('meltemi_object_writes_total{operation="status"}')} status writes`);

    await ctl.stop("SIGTERM");
    const t3 = performance.now();
    ctl = await startController(kubeconfig, "bench-b", ["--log-level", "info"]);
    await waitReady(ctl, /leader/);
    const first = await waitFor("first reconcile", () => ctl.entries("reconciled")[0]);
    const t4 = performance.now();
    console.log(`restart: ready as leader ${s(t4 - t3)} after the old one stopped; first reconcile applied ${first.applied}, deleted ${first.deleted}, unchanged ${first.unchanged}`);
  } finally {
    await ctl.stop("SIGKILL");
  }
});
