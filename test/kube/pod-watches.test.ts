// The adaptive engine's pod view (controller/adaptive/pod_watches.ts) on a real kube-apiserver: the
// EndpointSlices of the limited services and the pods' labels come from list-then-watch, and later
// changes (a pod relabelled, a slice's endpoint no longer ready) are seen without another list.
import { test } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import { PodWatches } from "../../controller/adaptive/pod_watches";
import { readyPodNames } from "../../controller/adaptive/pods";
import type { KubeObject } from "../../controller/k8s/objects";
import { withKubeApiserver } from "./apiserver";
import { Cluster, K } from "./cluster_objects";
import { waitFor } from "../wait";

const NS = "shop";
const ENDPOINT_SLICE = { group: "discovery.k8s.io", version: "v1", plural: "endpointslices" };
const POD = { group: "", version: "v1", plural: "pods" };
const SERVICE_ACCOUNT = { group: "", version: "v1", plural: "serviceaccounts" };

const pod = (name: string, version: string): KubeObject => ({
  apiVersion: "v1", kind: "Pod", metadata: { name, namespace: NS, labels: { app: "orders", version } },
  spec: { automountServiceAccountToken: false, containers: [{ name: "c", image: "registry.invalid/orders:1" }] },
} as KubeObject);

const slice = (service: string, ready: Record<string, boolean>): KubeObject => ({
  apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice",
  metadata: { name: `${service}-x1`, namespace: NS, labels: { "kubernetes.io/service-name": service } },
  addressType: "IPv4",
  endpoints: Object.entries(ready).map(([name, r], i) => ({ addresses: [`10.1.0.${i + 1}`], conditions: { ready: r }, targetRef: { kind: "Pod", name, namespace: NS } })),
} as unknown as KubeObject);

test("adaptive pod watches: EndpointSlices and pod labels from list-then-watch, changes seen", { timeout: 300_000 }, async () => {
  await withKubeApiserver({}, async (kube) => {
    const c = new Cluster(kube);
    await c.create(K.namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
    // No controller-manager here: the namespace's default ServiceAccount, which pod admission looks up, is made by hand.
    await c.create(SERVICE_ACCOUNT, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: NS } });
    await c.create(POD, pod("orders-0", "v1"));
    await c.create(POD, pod("orders-1", "v2"));
    await c.create(ENDPOINT_SLICE, slice("orders", { "orders-0": true, "orders-1": true }));
    await c.create(ENDPOINT_SLICE, slice("other", { "other-0": true }));

    const watches = new PodWatches(c.http, pino({ level: "silent" }));
    try {
      const services = new Set([`${NS}/orders`]);
      assert.equal(await watches.ready(true, 60_000), undefined, "both watches listed");
      const slices = watches.slicesOf(services);
      assert.deepEqual(slices.map((s) => s.metadata.name), ["orders-x1"], "only the limited services' slices");
      assert.deepEqual(readyPodNames(slices, NS, "orders"), ["orders-0", "orders-1"]);
      assert.deepEqual(watches.podLabels(NS, "orders-1"), { app: "orders", version: "v2" });
      assert.equal(watches.podLabels("elsewhere", "orders-1"), undefined, "pods are looked up in the limiter's namespace");

      // Changes arrive through the watches.
      await c.patch(POD, NS, "orders-1", { metadata: { labels: { version: "v1" } } });
      await c.patch(ENDPOINT_SLICE, NS, "orders-x1", { endpoints: (slice("orders", { "orders-0": false, "orders-1": true }) as unknown as { endpoints: unknown[] }).endpoints });
      await waitFor("the relabelled pod", async () => (watches.podLabels(NS, "orders-1")?.version === "v1" ? true : undefined));
      await waitFor("orders-0 not ready", async () => (readyPodNames(watches.slicesOf(services), NS, "orders").join() === "orders-1" ? true : undefined));
    } finally {
      watches.stop();
    }
  });
});
