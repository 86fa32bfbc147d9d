// The runtime's pure helpers: status conditions with lastTransitionTime, stable JSON, bind addresses.
// (The runtime as a whole is tested against a real kube-apiserver in test/kube/controller.test.ts.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { nextStatus } from "../../controller/runtime/status_writer";
import { stableHash, stableJson } from "../../controller/runtime/stable_json";
import { parseBindAddress } from "../../controller/runtime/health_server";
import type { InputStatus } from "../../controller/translate/status";
import type { KubeObject } from "../../controller/k8s/objects";

const ref = { apiVersion: "meltemi.dev/v1alpha1", kind: "RpcRouter", namespace: "ns", name: "r", generation: 2 };
const wanted = (status: "True" | "False", reason: string, message = "m"): InputStatus => ({
  object: ref, refused: status === "False", observedGeneration: 2, conditions: [{ type: "Ready", status, reason, message, observedGeneration: 2 }],
});
const live = (status: unknown): KubeObject => ({ apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: "r", namespace: "ns" }, status });

test("nextStatus: first write sets lastTransitionTime; an unchanged condition is not written again", () => {
  const s = nextStatus(live(undefined), wanted("True", "Accepted"), "2026-01-01T00:00:00Z")!;
  assert.deepEqual(s, { observedGeneration: 2, conditions: [{ type: "Ready", status: "True", reason: "Accepted", message: "m", observedGeneration: 2, lastTransitionTime: "2026-01-01T00:00:00Z" }] });
  assert.equal(nextStatus(live(s), wanted("True", "Accepted"), "2026-01-02T00:00:00Z"), undefined);
});

test("nextStatus: lastTransitionTime moves only when the status flips; other condition types stay", () => {
  const before = { observedGeneration: 2, conditions: [{ type: "Other", status: "True" }, { type: "Ready", status: "True", reason: "Accepted", message: "m", observedGeneration: 2, lastTransitionTime: "T0" }] };
  const warn = nextStatus(live(before), wanted("True", "AcceptedWithWarnings", "w"), "T1")!;
  assert.equal(warn.conditions!.find((c) => c.type === "Ready")!.lastTransitionTime, "T0");
  assert.ok(warn.conditions!.some((c) => c.type === "Other"));
  const failed = nextStatus(live(before), wanted("False", "NoService"), "T2")!;
  assert.equal(failed.conditions!.find((c) => c.type === "Ready")!.lastTransitionTime, "T2");
});

test("nextStatus: a new generation is written even when the condition reads the same", () => {
  const before = { observedGeneration: 1, conditions: [{ type: "Ready", status: "True", reason: "Accepted", message: "m", observedGeneration: 1, lastTransitionTime: "T0" }] };
  const s = nextStatus(live(before), wanted("True", "Accepted"), "T1")!;
  assert.equal(s.observedGeneration, 2);
  assert.equal(s.conditions![0]!.lastTransitionTime, "T0");
});

test("stableJson: key order does not matter, array order does, undefined fields are left out", () => {
  assert.equal(stableJson({ b: 1, a: { d: [2, 1], c: undefined } }), '{"a":{"d":[2,1]},"b":1}');
  assert.equal(stableHash({ x: 1, y: 2 }), stableHash({ y: 2, x: 1 }));
  assert.notEqual(stableHash({ d: [1, 2] }), stableHash({ d: [2, 1] }));
});

test("parseBindAddress: [host]:port", () => {
  assert.deepEqual(parseBindAddress(":8081"), { port: 8081 });
  assert.deepEqual(parseBindAddress("127.0.0.1:0"), { host: "127.0.0.1", port: 0 });
  assert.deepEqual(parseBindAddress("[::1]:9090"), { host: "::1", port: 9090 });
  assert.throws(() => parseBindAddress("8081"), /host\]:port/);
});
