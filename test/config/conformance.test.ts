// One schema, two enforcers: every fixture gets the same verdict from the JSON Schema
// (filter/config/filter-config.schema.json, which the controller validates with) and from the filter
// itself (build/meltemi.wasm configured in the Node host). See fixtures/README.md for the one
// deliberate difference: regexes that cannot run in linear time, which only the filter can judge.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import { LogLevel, WasmHost } from "../host/index";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const schema = JSON.parse(fs.readFileSync(path.join(root, "filter/config/filter-config.schema.json"), "utf8"));
const validate = new Ajv2020({ allErrors: true }).compile(schema);
const wasm = path.join(root, "build/meltemi.wasm");

function schemaAccepts(text: string): boolean {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return false;
  }
  return validate(data) as boolean;
}

async function filterVerdict(text: string): Promise<{ accepted: boolean; reason: string }> {
  const vm = await WasmHost.load(wasm, { pluginName: "conformance" });
  vm.configure(text);
  const accepted = vm.logs.some((l) => l.message.endsWith("configuration accepted"));
  const reason = vm.logs.filter((l) => l.level === LogLevel.Error).map((l) => l.message).join("; ");
  return { accepted, reason };
}

const cases: { dir: string; schema: boolean; filter: boolean }[] = [
  { dir: "valid", schema: true, filter: true },
  { dir: "invalid", schema: false, filter: false },
  { dir: "filter-only-invalid", schema: true, filter: false },
];

for (const c of cases) {
  const dir = path.join(here, "fixtures", c.dir);
  for (const file of fs.readdirSync(dir).sort()) {
    test(`${c.dir}/${file}: schema ${c.schema ? "accepts" : "rejects"}, filter ${c.filter ? "accepts" : "rejects"}`, async () => {
      const text = fs.readFileSync(path.join(dir, file), "utf8");
      assert.equal(schemaAccepts(text), c.schema, `schema verdict ${JSON.stringify(validate.errors)}`);
      const verdict = await filterVerdict(text);
      assert.equal(verdict.accepted, c.filter, `filter verdict: ${verdict.reason || "accepted"}`);
      if (!c.filter) assert.match(verdict.reason, /configuration rejected: /);
    });
  }
}

test("the fixtures cover every top-level field of the schema", () => {
  const full = JSON.parse(fs.readFileSync(path.join(here, "fixtures/valid/full.json"), "utf8"));
  assert.deepEqual(Object.keys(full).sort(), Object.keys(schema.properties).sort());
});
