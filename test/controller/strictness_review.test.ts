// Issue 15's review: the cases an adversarial review found still silent or broader than written after
// the first round (test/controller/strictness.test.ts), each shown refused or not Ready.
import { test } from "node:test";
import assert from "node:assert/strict";
import { emptySnapshot, type Snapshot } from "../../controller/translate/snapshot";
import { translate, type TranslateResult } from "../../controller/translate/translate";
import { filterConfigsOf, TEST_OPTIONS } from "./support";

const HOST = "reviews.shop.svc.cluster.local";
const service = (name = "reviews", port = "tcp-metaprotocol-dubbo", namespace = "shop") => ({
  apiVersion: "v1", kind: "Service", metadata: { name, namespace },
  spec: { clusterIP: "10.0.0.9", selector: { app: name }, ports: [{ name: port, port: 20880, targetPort: 20880 }] },
});
const metaRouter = (spec: Record<string, unknown>, name = "m", namespace = "shop") => ({ apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "MetaRouter", metadata: { name, namespace }, spec });
const dap = (spec: Record<string, unknown>, namespace = "shop") => ({ apiVersion: "dubbo.aeraki.io/v1alpha1", kind: "DubboAuthorizationPolicy", metadata: { name: "p", namespace }, spec });
const snap = (parts: Partial<Snapshot>): Snapshot => ({ ...emptySnapshot(), services: [service()] as never[], ...parts });
const run = (parts: Partial<Snapshot>) => translate(snap(parts), TEST_OPTIONS);
const ready = (r: TranslateResult, kind: string, name?: string) => {
  const c = r.status.find((s) => s.object.kind === kind && (name === undefined || s.object.name === name))!.conditions[0]!;
  return `${c.status} ${c.reason}`;
};
const errors = (r: TranslateResult) => r.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.reason} ${d.path ?? ""}`.trim());
const serverConfigs = (r: TranslateResult) => filterConfigsOf(r.objects as never).filter((c) => c.where.startsWith("WasmPlugin")).map((c) => c.config as Record<string, unknown>);

test("E1: a misspelled top-level key (spce:) refuses Aeraki and Slime objects, never an ALLOW without rules", () => {
  const { spec: _, ...bare } = dap({});
  const r = run({ dubboAuthorizationPolicies: [{ ...bare, spce: { action: "DENY", rules: [{ from: [{ source: { namespaces: ["dev"] } }] }] } }] as never[] });
  assert.deepEqual(errors(r), ["UnknownField spce"]);
  assert.equal(ready(r, "DubboAuthorizationPolicy"), "False UnknownField");
  assert.deepEqual(serverConfigs(r).flatMap((c) => (c.authorization as unknown[] | undefined) ?? []), [], "no deny-all from the refused object");

  const mr = run({ metaRouters: [{ ...metaRouter({ hosts: [HOST], routes: [{ route: [{ destination: { host: HOST } }] }] }), sepc: {} }] as never[] });
  assert.deepEqual(errors(mr), ["UnknownField sepc"]);
  const ap = run({ applicationProtocols: [{ apiVersion: "metaprotocol.aeraki.io/v1alpha1", kind: "ApplicationProtocol", metadata: { name: "p" }, spce: { protocol: "dubbo", codec: "aeraki.meta_protocol.codec.dubbo" } }] as never[] });
  assert.deepEqual(errors(ap), ["UnknownField spce"]);
  const sl = run({ smartLimiters: [{ apiVersion: "microservice.slime.io/v1alpha2", kind: "SmartLimiter", metadata: { name: "reviews", namespace: "shop" }, spec: { sets: { _base: { descriptor: [{ condition: "true", action: { quota: "1", fill_interval: { seconds: 1 } } }] } } }, spcee: {} }] as never[] });
  assert.deepEqual(errors(sl), ["UnknownField spcee"]);
  // status is a Kubernetes object's own key: not unknown.
  const withStatus = run({ dubboAuthorizationPolicies: [{ ...dap({ action: "DENY", rules: [{ from: [{ source: { namespaces: ["dev"] } }] }] }), status: {} }] as never[] });
  assert.deepEqual(errors(withStatus), []);
});
