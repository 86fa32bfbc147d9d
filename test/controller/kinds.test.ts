// The registry of input kinds (controller/k8s/kinds.ts) is the one list: every slot of the
// translation's snapshot is filled by exactly one kind, and `render`'s classification follows it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { INPUTS, inputResourceOf, inputResourceOfVersion } from "../../controller/k8s/kinds";
import { classify } from "../../controller/render/classify";
import { emptySnapshot } from "../../controller/translate/snapshot";

test("kinds: each snapshot slot has exactly one input kind", () => {
  const slots = Object.keys(emptySnapshot()).sort();
  assert.deepEqual(INPUTS.map((r) => r.slot).sort(), slots);
});

test("kinds: lookup by group and kind (any version) and by a listed version only", () => {
  assert.equal(inputResourceOf("networking.istio.io/v1alpha3", "DestinationRule")?.slot, "destinationRules");
  assert.equal(inputResourceOf("networking.istio.io/v9", "DestinationRule")?.slot, "destinationRules");
  assert.equal(inputResourceOfVersion("networking.istio.io/v9", "DestinationRule"), undefined);
  assert.equal(inputResourceOfVersion("v1", "Service")?.slot, "services");
  assert.equal(inputResourceOfVersion("apps/v1", "Deployment"), undefined);
});

test("classify: every registered kind lands in its slot; cluster-wide registrations lose their namespace", () => {
  const loaded = INPUTS.map((r) => ({ object: { apiVersion: r.group ? `${r.group}/${r.versions[0]}` : r.versions[0]!, kind: r.kind, metadata: { name: "x", namespace: "given" } } }));
  loaded.push({ object: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d", namespace: "given" } } });
  const { snapshot, ignored } = classify(loaded as Parameters<typeof classify>[0], "default");
  for (const r of INPUTS) {
    const [obj] = snapshot[r.slot] as { metadata: { namespace?: string } }[];
    assert.ok(obj, `${r.kind} classified`);
    assert.equal(obj.metadata.namespace, r.namespaced && !r.clusterWide ? "given" : undefined, r.kind);
  }
  assert.deepEqual([...ignored], [["apps/v1 Deployment", 1]]);
});
