// The codec manifest (filter/codec/manifest.json) is what the filter's codecs say of themselves: the
// file the controller reads (controller/translate/codecs.ts) must match the registry and codecs
// compiled into the module (through the codec harness), so adding a codec or changing a capability
// without regenerating it (node scripts/codec-manifest.mjs) fails here.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { codecManifest } from "./harness";
import { CODECS, CODEC_NAMES, hasNativeRouter } from "../../controller/translate/codecs";
import { DEFAULT_OPTIONS } from "../../controller/translate/options";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

test("filter/codec/manifest.json is what the built codecs say (regenerate: node scripts/codec-manifest.mjs)", async () => {
  const file = JSON.parse(fs.readFileSync(path.join(root, "filter/codec/manifest.json"), "utf8"));
  assert.deepEqual(file, await codecManifest());
});

test("the manifest names each codec's native router, routing key and error codes", async () => {
  const m = (await codecManifest()) as { codecs: Record<string, unknown>[] };
  const byName = Object.fromEntries(m.codecs.map((c) => [c.name, c]));
  // Other codecs may be there (a new codec does not edit this test); these two have native routers.
  assert.ok(byName.dubbo && byName.thrift, Object.keys(byName).join(", "));
  assert.equal(byName.dubbo.nativeRouter, "envoy.filters.network.dubbo_proxy");
  assert.equal(byName.thrift.nativeRouter, "envoy.filters.network.thrift_proxy");
  assert.deepEqual(byName.thrift.errorReplies, { field: "TApplicationException type", over_limit: 6, unauthorized: 0, fault_abort: 6, no_route: 1, bad_request: 7 });
  assert.deepEqual(byName.dubbo.errorReplies, { field: "response status", over_limit: 100, unauthorized: 70, fault_abort: 70, no_route: 60, bad_request: 40 });
  assert.equal(byName.thrift.answersInOrder, true);
  assert.equal(byName.dubbo.answersInOrder, false);
  // A codec without a native Envoy router routes perConnection only, and says no routing key.
  for (const c of m.codecs) {
    if (c.nativeRouter !== null) continue;
    assert.deepEqual(c.routingModes, ["perConnection"], String(c.name));
    assert.equal(c.routingKey, null, String(c.name));
  }
});

test("the controller's codec list is the manifest's", () => {
  assert.deepEqual([...CODEC_NAMES], CODECS.map((c) => c.name));
  assert.deepEqual(DEFAULT_OPTIONS.codecs, [...CODEC_NAMES]);
  assert.equal(hasNativeRouter("thrift"), true);
  assert.equal(hasNativeRouter("trpc"), false);
});
