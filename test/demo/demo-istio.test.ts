// `npm run demo -- --istio`: the demo through real istiod and istio-agent (demo/istio.ts), the
// controller applying the samples. It runs to its final summary with the same table as the default
// demo: both versions of each service, the method routes, rejections by the per-pod limits and by the
// faults; no sidecar rejected an xDS update; it stops by itself. Its processes live in a PID namespace
// whose init is the demo, so they cannot outlive it (test/istio/netns.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEMO, run, table } from "./demo_output";

test("the demo with --istio --duration: istiod and istio-agent deliver the controller's objects; both versions, the method routes, limit and fault rejections; no NACK", { timeout: 900_000 }, async () => {
  const r = await run(process.execPath, [...DEMO, "--istio", "--duration", "25"]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /meltemi controller: applies WasmPlugins and EnvoyFilters/);
  assert.doesNotMatch(r.out, /Envoy rejected xDS updates/, "every sidecar accepted every update");
  const rows = table(r.out, "final summary");
  for (const protocol of ["thrift", "dubbo"]) {
    const mine = [...rows].filter(([k]) => k.startsWith(protocol + " ")).map(([, v]) => v);
    assert.ok(mine.reduce((n, row) => n + row["served v1"], 0) > 0, `${protocol}: v1 served calls\n${r.out}`);
    assert.ok(mine.reduce((n, row) => n + row["served v2"], 0) > 0, `${protocol}: v2 served calls\n${r.out}`);
    assert.ok(mine.reduce((n, row) => n + row["rej. rate limit"], 0) > 0, `${protocol}: rejections by the rate limit\n${r.out}`);
    assert.ok(mine.reduce((n, row) => n + row["rej. fault"], 0) > 0, `${protocol}: rejections by the fault\n${r.out}`);
  }
  // The method routes of manifests/samples/meltemi.yaml: Thrift echo only to v2, Dubbo nothing only to v1.
  assert.equal(rows.get("thrift echo")?.["served v1"], 0, r.out);
  assert.ok((rows.get("thrift echo")?.["served v2"] ?? 0) > 0, r.out);
  assert.equal(rows.get("dubbo nothing")?.["served v2"], 0, r.out);
  assert.match(r.out, /stopped: every process the demo started has exited/);
});
