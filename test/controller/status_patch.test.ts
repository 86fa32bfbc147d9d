// The one status writer (controller/runtime/status_patch.ts) against a scripted API server: each patch
// carries the resourceVersion it was computed from; a conflict re-reads and recomputes; a recreated
// object (another uid) is left alone; conditions merge by type.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { KubeObject } from "../../controller/k8s/objects";
import { KubeError, type KubeHttp } from "../../controller/runtime/kube_http";
import { mergeConditions, patchStatus } from "../../controller/runtime/status_patch";

interface Call { method: string; path: string; body?: { metadata: { uid?: string; resourceVersion?: string }; status: Record<string, unknown> } }

/** An API server holding `server`: GET returns it; a PATCH whose resourceVersion is another gets 409. */
function scripted(server: KubeObject): { http: KubeHttp; calls: Call[] } {
  const calls: Call[] = [];
  const http = {
    async request(method: string, path: string, opts: { body?: Call["body"] } = {}) {
      calls.push({ method, path, body: opts.body });
      if (method === "GET") return server;
      if (opts.body!.metadata.resourceVersion !== server.metadata.resourceVersion) throw new KubeError(409, "Conflict", "the object has been modified");
      return server;
    },
  } as unknown as KubeHttp;
  return { http, calls };
}

const obj = (rv: string, uid = "u1", conditions: unknown[] = []): KubeObject => ({ apiVersion: "meltemi.dev/v1alpha1", kind: "RpcRouter", metadata: { name: "r", namespace: "ns", uid, resourceVersion: rv }, status: { conditions } });
const addReady = (live: KubeObject) => ({ conditions: mergeConditions((live.status as { conditions?: [] }).conditions, [{ type: "Ready", status: "True", reason: "Accepted" }], "T1") });

test("patchStatus: a stale copy conflicts, is read again, and the other writer's condition is kept", async () => {
  const fresh = obj("2", "u1", [{ type: "MetricsAvailable", status: "True", lastTransitionTime: "T0" }]);
  const { http, calls } = scripted(fresh);
  assert.equal(await patchStatus(http, "/p", addReady, obj("1")), "written");
  assert.deepEqual(calls.map((c) => `${c.method} ${c.body?.metadata.resourceVersion ?? ""}`), ["PATCH 1", "GET ", "PATCH 2"]);
  assert.deepEqual(calls[2]!.body!.status.conditions, [{ type: "MetricsAvailable", status: "True", lastTransitionTime: "T0" }, { type: "Ready", status: "True", reason: "Accepted", lastTransitionTime: "T1" }]);
  assert.equal(calls[2]!.path, "/p/status");
});

test("patchStatus: a recreated object (another uid) is not written; nothing to say, nothing sent", async () => {
  const recreated = scripted(obj("5", "u2"));
  assert.equal(await patchStatus(recreated.http, "/p", addReady, obj("1")), "gone");
  assert.deepEqual(recreated.calls.map((c) => c.method), ["PATCH", "GET"]);
  const same = scripted(obj("1"));
  assert.equal(await patchStatus(same.http, "/p", () => undefined, obj("1")), "unchanged");
  assert.equal(same.calls.length, 0);
});

test("mergeConditions: by type, others kept in order; lastTransitionTime kept unless the status flips", () => {
  const live = [{ type: "A", status: "True", lastTransitionTime: "T0" }, { type: "Ready", status: "True", lastTransitionTime: "T0" }];
  assert.deepEqual(mergeConditions(live, [{ type: "Ready", status: "True", reason: "Still" }], "T1"), [live[0], { type: "Ready", status: "True", reason: "Still", lastTransitionTime: "T0" }]);
  assert.deepEqual(mergeConditions(live, [{ type: "Ready", status: "False", reason: "Broken" }], "T1")[1], { type: "Ready", status: "False", reason: "Broken", lastTransitionTime: "T1" });
});
