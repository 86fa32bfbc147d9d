// Shared by the controller tests: the test options, loading a testdata case, and the invariants every
// translation output must keep.
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020";
import { parse } from "yaml";
import { classify } from "../../controller/render/classify";
import { parseText } from "../../controller/render/load";
import type { TranslateOptions } from "../../controller/translate/options";
import type { Snapshot } from "../../controller/translate/snapshot";
import type { TranslateResult } from "../../controller/translate/translate";

export const here = path.dirname(fileURLToPath(import.meta.url));
import { repoRoot } from "../repo_root";
export { repoRoot };
export const testdata = path.join(here, "testdata");

export const DIGEST = "5d41402abc4b2a76b9719d911017c592ae2f0e2b1c6a6f1e0b8d2d7a3c4e5f60";
export const TEST_OPTIONS: Partial<TranslateOptions> = {
  wasm: { url: `oci://registry.example/meltemi/filter@sha256:${DIGEST}`, sha256: DIGEST },
};

export function loadCase(name: string): { snapshot: Snapshot; options: Partial<TranslateOptions> } {
  const file = path.join(testdata, name, "input.yaml");
  const { snapshot } = classify(parseText(readFileSync(file, "utf8"), file), "default");
  const optionsFile = path.join(testdata, name, "options.yaml");
  const extra = existsSync(optionsFile) ? (parse(readFileSync(optionsFile, "utf8")) as Partial<TranslateOptions>) : {};
  return { snapshot, options: { ...TEST_OPTIONS, ...extra } };
}

// An ajv of the test's own (not the controller's) over the filter's schema file.
const filterSchema = JSON.parse(readFileSync(path.join(repoRoot, "filter/config/filter-config.schema.json"), "utf8"));
const validateFilterConfig = new Ajv2020({ strict: false, allErrors: true }).compile(filterSchema);

export function assertValidFilterConfig(config: unknown, where: string): void {
  assert.ok(validateFilterConfig(config), `${where}: pluginConfig breaks the filter schema: ${JSON.stringify(validateFilterConfig.errors)}`);
}

type Obj = { apiVersion: string; kind: string; metadata: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: any };

/** Every filter configuration a translation output carries (WasmPlugin, TrafficExtension, EnvoyFilter ECDS). */
export function filterConfigsOf(objects: readonly Obj[]): { where: string; config: unknown }[] {
  const out: { where: string; config: unknown }[] = [];
  for (const o of objects) {
    const where = `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`;
    if (o.kind === "WasmPlugin") out.push({ where, config: o.spec.pluginConfig });
    else if (o.kind === "TrafficExtension") out.push({ where, config: o.spec.wasm.pluginConfig });
    else if (o.kind === "EnvoyFilter") {
      for (const p of o.spec.configPatches) {
        if (p.applyTo === "EXTENSION_CONFIG") out.push({ where, config: JSON.parse(p.patch.value.typed_config.config.configuration.value) });
      }
    }
  }
  return out;
}

/** The invariants of any translation output: scoped, labelled, filter configs valid. */
export function assertInvariants(result: TranslateResult, rootNamespace = "istio-system"): void {
  const objects = result.objects as Obj[];
  for (const o of objects) {
    const where = `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`;
    assert.equal(o.metadata.labels?.["app.kubernetes.io/managed-by"], "meltemi", `${where}: managed-by label`);
    assert.ok(o.metadata.namespace, `${where}: namespaced`);
    if (o.kind === "WasmPlugin" || o.kind === "TrafficExtension") {
      const labels = o.spec.selector?.matchLabels ?? {};
      assert.ok(Object.keys(labels).length > 0, `${where}: a plugin without a workload selector would load in every workload of its namespace`);
      assert.equal(o.spec.targetRefs, undefined);
      const wasm = o.kind === "WasmPlugin" ? o.spec : o.spec.wasm;
      assert.equal(wasm.type, "NETWORK");
      assert.deepEqual(o.spec.match.map((m: { mode: string }) => m.mode), ["SERVER"]);
      assert.ok(o.spec.match[0].ports.length === 1, `${where}: exactly one port`);
      assert.notEqual(o.metadata.namespace, rootNamespace, `${where}: a plugin in the root namespace applies mesh-wide`);
    } else if (o.kind === "EnvoyFilter") {
      for (const p of o.spec.configPatches) {
        if (p.applyTo === "EXTENSION_CONFIG") continue;
        if (p.applyTo === "CLUSTER") {
          // HTTP/2 for a rate limit service's cluster: that one cluster, merged, and only in the workloads
          // of a plugin (same namespace, same selector) whose configuration sends global limits there.
          assert.equal(p.match.context, "SIDECAR_OUTBOUND");
          assert.deepEqual(Object.keys(p.match.cluster), ["name"], `${where}: a cluster patch names its cluster exactly`);
          assert.equal(p.patch.operation, "MERGE");
          const selector = o.spec.workloadSelector?.labels;
          assert.ok(selector && Object.keys(selector).length > 0, `${where}: a cluster patch is scoped by a workload selector`);
          const carriers = objects.filter((w) => w.kind === "WasmPlugin" || w.kind === "TrafficExtension").filter((w) =>
            w.metadata.namespace === o.metadata.namespace && JSON.stringify(w.spec.selector?.matchLabels) === JSON.stringify(selector) &&
            ((w.kind === "WasmPlugin" ? w.spec.pluginConfig : w.spec.wasm.pluginConfig).globalLimits ?? []).some((g: { cluster: string }) => g.cluster === p.match.cluster.name));
          assert.ok(carriers.length > 0, `${where}: no plugin with the same selector sends global limits to ${p.match.cluster.name}`);
          continue;
        }
        assert.equal(p.applyTo, "NETWORK_FILTER", `${where}: only network filter patches`);
        assert.equal(p.match.context, "SIDECAR_OUTBOUND");
        assert.match(p.match.listener.name, /^[0-9a-f.:]+_[0-9]+$/, `${where}: every patch is scoped to one service's listener <vip>_<port>`);
      }
      if (o.metadata.namespace === rootNamespace) {
        const owner = o.metadata.annotations?.["meltemi.dev/owner"];
        assert.ok(
          result.diagnostics.some((d) => d.reason === "MeshWide" && `${d.object.kind}/${d.object.namespace ?? ""}/${d.object.name}` === owner),
          `${where}: in the root namespace without an explicit mesh-wide request`,
        );
      }
    } else if (o.kind === "ConfigMap") {
      // The rate limit service's configuration (Slime's global limits): one file, its domain and descriptors.
      assert.deepEqual(Object.keys((o as { data?: object }).data ?? {}), ["config.yaml"], `${where}: the service's config.yaml only`);
      assert.ok(o.metadata.annotations?.["meltemi.dev/sources"], `${where}: names every input it comes from`);
    } else {
      assert.fail(`${where}: unexpected kind`);
    }
  }
  for (const { where, config } of filterConfigsOf(objects)) assertValidFilterConfig(config, where);
}
