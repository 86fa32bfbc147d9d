// The install manifests, the samples and the Helm chart's output pass SERVER-SIDE dry-run against a
// real kube-apiserver (test/kube) with Istio's and Meltemi's CRDs installed: schema, CEL rules,
// admission and defaulting run exactly as on a cluster, nothing is stored. A broken copy is rejected,
// which shows the dry-run validates.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { CoreV1Api, type KubernetesObject, KubernetesObjectApi, PatchStrategy, loadAllYaml } from "@kubernetes/client-node";
import { withKubeApiserver } from "../kube/apiserver";
import { describeError } from "../kube/crds";
import { CHART, helm, repoRoot } from "./support";
import { execFileSync } from "node:child_process";

const fieldManager = "meltemi-dry-run-test";

/** client-node objects (loadAllYaml maps built-in kinds' fields) of every .yaml file in `dir`. */
function load(dir: string): KubernetesObject[] {
  const abs = path.join(repoRoot, dir);
  return fs.readdirSync(abs).filter((f) => f.endsWith(".yaml")).sort()
    .flatMap((f) => loadAllYaml(fs.readFileSync(path.join(abs, f), "utf8")) as KubernetesObject[]).filter((o) => o);
}

test("manifests/install, manifests/samples and the Helm chart pass server-side dry-run on a real kube-apiserver", { timeout: 1_800_000 }, async () => {
  const chartOut = execFileSync(helm(), ["template", "meltemi", CHART, "--namespace", "mesh-addons", "--set", "image=registry.example/meltemi:1"], { encoding: "utf8" });
  await withKubeApiserver({}, async (kube) => {
    await kube.installIstioCrds();
    await kube.installMeltemiCrds();
    const kc = kube.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    // Namespaces must exist for a namespaced dry-run; the demo one and the chart's release namespace
    // are created for real (manifests/install/namespace.yaml is dry-run below like the rest); istio-system
    // is Istio's (the rate limit service's ConfigMap's Role is there).
    for (const name of ["meltemi-system", "istio-system", "demo", "mesh-addons"]) await core.createNamespace({ body: { metadata: { name } } });
    const api = KubernetesObjectApi.makeApiClient(kc);
    const dryRun = async (o: KubernetesObject, origin: string) => {
      try {
        await api.patch(o, undefined, "All", fieldManager, true, PatchStrategy.ServerSideApply);
      } catch (err) {
        throw new Error(`${origin}: ${o.kind} ${o.metadata?.namespace ?? ""}/${o.metadata?.name}: ${describeError(err)}`);
      }
    };
    const sets: [string, KubernetesObject[]][] = [
      ["manifests/install", load("manifests/install")],
      ["manifests/samples", load("manifests/samples")],
      ["helm template", (loadAllYaml(chartOut) as KubernetesObject[]).filter((o) => o)],
    ];
    for (const [origin, objects] of sets) {
      assert.ok(objects.length > 0, `${origin} has objects`);
      for (const o of objects) await dryRun(o, origin);
    }
    const kinds = sets.flatMap(([, objects]) => objects.map((o) => o.kind));
    for (const kind of ["Deployment", "PodDisruptionBudget", "RpcRouter", "RpcRateLimit", "RpcProtocol", "DestinationRule", "Service"]) assert.ok(kinds.includes(kind), `${kind} was checked`);

    // Nothing was stored...
    const deployments = await api.list("apps/v1", "Deployment", "meltemi-system");
    assert.equal(deployments.items.length, 0);
    // ...and a broken Deployment is rejected by the same dry-run.
    const broken = load("manifests/install").find((o) => o.kind === "Deployment") as KubernetesObject & { spec: { replicas: number } };
    broken.spec.replicas = -1;
    await assert.rejects(dryRun(broken, "broken copy"), /replicas/);

    // The CRDs' CEL rules run on the API server: each cross-field rule rejects what it is there for.
    const meltemi = (kind: string, spec: object, namespaced = true): KubernetesObject =>
      ({ apiVersion: "meltemi.dev/v1alpha1", kind, metadata: { name: "cel", ...(namespaced ? { namespace: "demo" } : {}) }, spec } as KubernetesObject);
    const celCases: [KubernetesObject, RegExp][] = [
      [meltemi("RpcProtocol", { codec: "thrift", routingMode: "perRequest", thrift: {} }, false), /^$/], // valid: accepted
      [meltemi("RpcProtocol", { codec: "dubbo", thrift: {} }, false), /thrift/],
      [meltemi("RpcRouter", { host: "a", faults: [{ match: { method: { exact: "x" } } }] }), /a fault needs abort or delay/],
      [meltemi("RpcRateLimit", { host: "a", local: {} }), /local needs a tokenBucket or conditions/],
      [meltemi("RpcRateLimit", { host: "a", adaptive: { sets: { "Not_A_Subset": { descriptors: [{ condition: "true", quota: "1", fillInterval: "1s" }] } } } }), /set names are _base or DestinationRule subset names/],
      [meltemi("RpcRouter", { host: "a", routes: [{ match: { "": { exact: "x" } }, destinations: [{ subset: "v1" }] }] }), /metadata keys must be 1 to 256 characters/],
    ];
    for (const [o, expected] of celCases) {
      if (expected.source === "^$") await dryRun(o, "CEL: a valid object");
      else await assert.rejects(dryRun(o, "CEL"), expected, `${o.kind} ${JSON.stringify((o as { spec: unknown }).spec)}`);
    }
  });
});
