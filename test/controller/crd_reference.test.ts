// docs/crd-reference.md is what controller/api/reference.ts writes from the CRD schema source, and it
// documents every field of every CRD as the generated CRDs declare it.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { crdReference, REFERENCE_PATH, repoRoot } from "../../controller/api/reference";

test("docs/crd-reference.md is up to date (run: node --import tsx controller/api/reference.ts)", () => {
  assert.equal(fs.readFileSync(path.join(repoRoot, REFERENCE_PATH), "utf8"), crdReference());
});

test("every spec field of every CRD in manifests/crds/ has a row in the reference", () => {
  const doc = crdReference();
  const fields = (s: Record<string, any>, prefix: string): string[] => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const out: string[] = [];
    for (const [k, v] of Object.entries(s.properties ?? {}) as [string, Record<string, any>][]) { // eslint-disable-line @typescript-eslint/no-explicit-any
      const p = `${prefix}.${k}`;
      out.push(p);
      let inner = v; let suffix = "";
      while (inner.items || inner.additionalProperties) {
        if (inner.items) { inner = inner.items; suffix += "[]"; } else { inner = inner.additionalProperties; suffix += ".*"; }
      }
      out.push(...fields(inner, p + suffix));
    }
    return out;
  };
  let n = 0;
  for (const f of fs.readdirSync(path.join(repoRoot, "manifests/crds"))) {
    const crd = parse(fs.readFileSync(path.join(repoRoot, "manifests/crds", f), "utf8"));
    const spec = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;
    assert.ok(doc.includes(`## ${crd.spec.names.kind}\n`), crd.spec.names.kind);
    for (const p of fields(spec, "spec")) { assert.ok(doc.includes(`| \`${p}\` |`), `${crd.spec.names.kind}: ${p}`); n++; }
  }
  assert.ok(n > 40, `${n} fields checked`);
});
