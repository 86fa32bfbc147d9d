// `npm run demo -- --istio`: the demo through real istiod and istio-agent (demo/istio.ts), the
// controller applying the samples. It runs to its final summary with the same table as the default
// demo: both versions of each service, the method routes, rejections by the per-pod limits and by the
// faults; no sidecar rejected an xDS update; it stops by itself. Its processes live in a PID namespace
// whose init is the demo, so they cannot outlive it (test/istio/netns.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEMO, assertSamplesServed, run } from "./demo_output";

test("the demo with --istio --duration: istiod and istio-agent deliver the controller's objects; both versions, the method routes, limit and fault rejections; no NACK", { timeout: 900_000 }, async () => {
  const r = await run(process.execPath, [...DEMO, "--istio", "--duration", "25"]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /meltemi controller: applies WasmPlugins and EnvoyFilters/);
  assert.doesNotMatch(r.out, /Envoy rejected xDS updates/, "every sidecar accepted every update");
  assertSamplesServed(r.out);
  assert.match(r.out, /stopped: every process the demo started has exited/);
});
