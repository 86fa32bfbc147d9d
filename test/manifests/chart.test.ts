// The Helm chart is generated from the plain manifests (manifests/helm/generate.ts): the committed chart
// is what the generator writes, `helm lint` accepts it, and `helm template` with the default values
// gives exactly the plain manifests' objects (so the two install the same thing).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { chartFiles } from "../../manifests/helm/generate";
import { CHART, helm, helmTemplate, objectsIn, repoRoot } from "./support";

test("the committed chart is what manifests/helm/generate.ts writes (run it after editing manifests/install/)", () => {
  const want = chartFiles();
  const onDisk = new Set<string>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p); else onDisk.add(path.relative(repoRoot, p));
    }
  };
  walk(CHART);
  assert.deepEqual([...onDisk].sort(), [...want.keys()].sort());
  for (const [rel, content] of want) assert.equal(fs.readFileSync(path.join(repoRoot, rel), "utf8"), content, `${rel} is stale`);
});

test("helm lint accepts the chart", { timeout: 1_800_000 }, () => {
  const out = execFileSync(helm(), ["lint", "--strict", CHART], { encoding: "utf8" });
  assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
});

test("helm template with the default values gives the plain manifests' objects", { timeout: 1_800_000 }, () => {
  const plain = objectsIn("manifests/install").filter((o) => o.kind !== "Namespace");
  assert.ok(plain.some((o) => o.kind === "Deployment") && plain.some((o) => o.kind === "PodDisruptionBudget"));
  // Helm orders objects by kind (its install order): compare them keyed by kind, namespace and name.
  const byKey = (objects: typeof plain) => new Map(objects.map((o) => [`${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`, o]));
  const rendered = helmTemplate(["--namespace", "meltemi-system"]);
  assert.equal(rendered.length, plain.length);
  assert.deepEqual(byKey(rendered), byKey(plain));
});

test("helm template follows the release namespace and the values", { timeout: 1_800_000 }, () => {
  const objects = helmTemplate(["--namespace", "mesh-addons", "--set", "image=registry.example/meltemi:1", "--set", "wasmUrl=oci://r/m@sha256:" + "a".repeat(64)]);
  // The Role for the rate limit service's ConfigMap is where that ConfigMap is (Istio's istio-system), not
  // in the release namespace; every other namespaced object follows the release.
  const inIstio = (o: (typeof objects)[number]) => o.metadata.name === "meltemi-controller-rate-limit-config";
  assert.deepEqual(objects.filter(inIstio).map((o) => `${o.kind} ${o.metadata.namespace}`).sort(), ["Role istio-system", "RoleBinding istio-system"]);
  for (const o of objects) if (o.metadata.namespace !== undefined && !inIstio(o)) assert.equal(o.metadata.namespace, "mesh-addons", `${o.kind} ${o.metadata.name}`);
  const binding = objects.find((o) => o.kind === "RoleBinding" && inIstio(o)) as unknown as { subjects: { namespace: string }[] };
  assert.equal(binding.subjects[0]!.namespace, "mesh-addons", "the ConfigMap's RoleBinding names the release's ServiceAccount");
  const deployment = objects.find((o) => o.kind === "Deployment") as unknown as { spec: { template: { spec: { containers: { image: string; args: string[] }[] } } } };
  assert.equal(deployment.spec.template.spec.containers[0].image, "registry.example/meltemi:1");
  assert.ok(deployment.spec.template.spec.containers[0].args.includes("--wasm-url=oci://r/m@sha256:" + "a".repeat(64)));
});
