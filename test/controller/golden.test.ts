// Golden tests of the translation: each testdata/<case>/input.yaml (+ options.yaml) gives exactly
// output.yaml (the objects) and diagnostics.txt (diagnostics and each input's Ready condition).
// UPDATE_GOLDEN=1 rewrites the expected files and fails, so that a rewrite is never a pass.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import path from "node:path";
import { formatDiagnostic, toYaml } from "../../controller/render/output";
import { translate, type TranslateResult } from "../../controller/translate/translate";
import { assertInvariants, loadCase, testdata } from "./support";

function diagnosticsText(result: TranslateResult): string {
  const lines = result.diagnostics.map(formatDiagnostic);
  for (const s of result.status) {
    const c = s.conditions[0]!;
    lines.push(`status: ${s.object.kind} ${s.object.namespace ? `${s.object.namespace}/` : ""}${s.object.name}: Ready=${c.status} ${c.reason}: ${c.message}`);
  }
  return lines.join("\n") + "\n";
}

const cases = readdirSync(testdata).filter((d) => existsSync(path.join(testdata, d, "input.yaml"))).sort();

test("there are golden cases", () => {
  assert.ok(cases.length >= 10, `only ${cases.length} cases`);
});

for (const name of cases) {
  test(`golden: ${name}`, () => {
    const { snapshot, options } = loadCase(name);
    const result = translate(snapshot, options);
    const objectsFile = path.join(testdata, name, "output.yaml");
    const diagnosticsFile = path.join(testdata, name, "diagnostics.txt");
    const objects = toYaml(result.objects);
    const diagnostics = diagnosticsText(result);
    if (process.env.UPDATE_GOLDEN === "1") {
      writeFileSync(objectsFile, objects);
      writeFileSync(diagnosticsFile, diagnostics);
      assert.fail(`rewrote ${name}/output.yaml and diagnostics.txt: review them, then run again without UPDATE_GOLDEN`);
    }
    assert.equal(objects, readFileSync(objectsFile, "utf8"), `${name}: objects differ from output.yaml`);
    assert.equal(diagnostics, readFileSync(diagnosticsFile, "utf8"), `${name}: diagnostics differ from diagnostics.txt`);
    assertInvariants(result);
  });
}
