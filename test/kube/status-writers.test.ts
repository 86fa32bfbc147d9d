// The runtime's Ready and the adaptive engine's conditions are written into the same status.conditions
// list. A JSON merge patch replaces a list whole, so a writer patching from a copy read before the
// other's write would drop the other's condition; the one status writer (controller/runtime/
// status_patch.ts) makes each patch conditional on the resourceVersion it read, and reads again on a
// conflict. Here both writers run on a real kube-apiserver, on a Meltemi RpcRateLimit and on a Slime
// SmartLimiter (manifests/slime/: status preserved as unknown fields), in a forced order (the runtime
// writing from its informer's copy, stale by the adaptive write) and concurrently.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { pino } from "pino";
import { writeAdaptiveStatus } from "../../controller/adaptive/status_writer";
import type { AdaptiveStatus } from "../../controller/adaptive/status";
import { refOf, type KubeObject } from "../../controller/k8s/objects";
import type { EventRecorder } from "../../controller/runtime/events";
import type { Informers } from "../../controller/runtime/informers";
import { writeStatuses } from "../../controller/runtime/status_writer";
import type { InputStatus } from "../../controller/translate/status";
import { withKubeApiserver } from "./apiserver";
import { repoRoot } from "./binaries";
import { Cluster, K, type Condition, type Kind } from "./cluster_objects";
import { installCrds } from "./crds";

const NS = "shop";
const ROUNDS = 6;
const log = pino({ level: "silent" });
const noEvents = { record: async () => true } as unknown as EventRecorder;

/** The runtime's view of the object: its informer's copy, as given. */
const informersHolding = (version: string, copy: KubeObject): Informers =>
  ({ served: () => ({ version, namespaced: true }), input: () => copy }) as unknown as Informers;

const ready = (obj: KubeObject, reason: string): InputStatus => {
  const ref = refOf(obj);
  const generation = obj.metadata.generation;
  return { object: ref, refused: false, observedGeneration: generation, conditions: [{ type: "Ready", status: "True", reason, message: reason, observedGeneration: generation }] };
};

const metrics = (reason: string): AdaptiveStatus => ({
  metricStatus: { [`m_${reason}`]: "1" },
  ratelimitStatus: {},
  conditions: [{ type: "MetricsAvailable", status: "True", reason, message: reason }],
});

const conditionsOf = (obj: KubeObject | undefined): Condition[] => ((obj?.status as { conditions?: Condition[] } | undefined)?.conditions ?? []);

async function bothWriters(c: Cluster, kind: Kind, name: string): Promise<void> {
  const reasonOf = async (type: string) => conditionsOf(await c.get(kind, NS, name)).find((x) => x.type === type)?.reason;
  for (let round = 0; round < ROUNDS; round++) {
    // Forced order: the runtime's copy is read, the adaptive engine writes, then the runtime writes
    // from its (now stale) copy. A plain merge patch would drop MetricsAvailable here.
    const stale = (await c.get(kind, NS, name))!;
    assert.equal(await writeAdaptiveStatus(c.http, refOf(stale), metrics(`Seq${round}`)), "written");
    const result = await writeStatuses(c.http, informersHolding(kind.version, stale), noEvents, [ready(stale, `Seq${round}`)], log);
    assert.deepEqual(result, { written: 1, errors: [] });
    assert.equal(await reasonOf("Ready"), `Seq${round}`, `${kind.plural} round ${round}: the runtime's Ready`);
    assert.equal(await reasonOf("MetricsAvailable"), `Seq${round}`, `${kind.plural} round ${round}: the adaptive condition survives the runtime's stale write`);

    // Both at once, from the same read.
    const shared = (await c.get(kind, NS, name))!;
    const [adaptive, runtime] = await Promise.all([
      writeAdaptiveStatus(c.http, refOf(shared), metrics(`Par${round}`)),
      writeStatuses(c.http, informersHolding(kind.version, shared), noEvents, [ready(shared, `Par${round}`)], log),
    ]);
    assert.equal(adaptive, "written");
    assert.deepEqual(runtime, { written: 1, errors: [] });
    const after = conditionsOf(await c.get(kind, NS, name));
    assert.deepEqual(after.map((x) => `${x.type}=${x.reason}`).sort(), [`MetricsAvailable=Par${round}`, `Ready=Par${round}`], `${kind.plural} round ${round}: both conditions, once each`);
    for (const x of after) assert.match(x.lastTransitionTime ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  }
}

test("status conditions survive both writers (runtime Ready, adaptive MetricsAvailable) on a real kube-apiserver", { timeout: 300_000 }, async () => {
  await withKubeApiserver({}, async (kube) => {
    await kube.installMeltemiCrds();
    await installCrds(kube.kubeConfig(), path.join(repoRoot, "manifests/slime/smartlimiters.microservice.slime.io.yaml"));
    const c = new Cluster(kube);
    await c.create(K.namespace, { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
    await c.create(K.rpcRateLimit, { apiVersion: "meltemi.dev/v1alpha1", kind: "RpcRateLimit", metadata: { name: "reviews", namespace: NS }, spec: { host: "reviews", local: { tokenBucket: { maxTokens: 100, tokensPerFill: 100, fillInterval: "1s" } } } } as KubeObject);
    await c.create(K.smartLimiter, { apiVersion: "microservice.slime.io/v1alpha2", kind: "SmartLimiter", metadata: { name: "orders", namespace: NS }, spec: { sets: { _base: { descriptor: [{ action: { quota: "10", fill_interval: { seconds: 1 } }, condition: "true" }] } } } } as KubeObject);
    await bothWriters(c, K.rpcRateLimit, "reviews");
    await bothWriters(c, K.smartLimiter, "orders");
  });
});
