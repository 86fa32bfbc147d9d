// schema_check.ts compiles its schemas without checking them against their meta-schemas (for speed) and
// validates against the closed schema first where that cannot change a verdict. Here: the schemas are
// valid under their meta-schemas, and the reports are those of "open schema first, then closed".
import { test } from "node:test";
import assert from "node:assert/strict";
import { Ajv } from "ajv";
import { Ajv2020 } from "ajv/dist/2020";
import filterConfigSchema from "../../filter/config/filter-config.schema.json" with { type: "json" };
import { plainJsonSchema } from "../../controller/api/crd";
import { crdDefinitions } from "../../controller/api/schema";
import { applicationProtocolSpecSchema, dubboAuthorizationPolicySpecSchema, metaRouterSpecSchema } from "../../controller/k8s/aeraki";
import { checkSpec } from "../../controller/translate/schema_check";

test("schema_check: every schema it compiles is valid under its meta-schema", () => {
  const draft07 = new Ajv({ strict: false });
  const schemas: [string, object][] = [
    ["MetaRouter spec", metaRouterSpecSchema],
    ["ApplicationProtocol spec", applicationProtocolSpecSchema],
    ["DubboAuthorizationPolicy spec", dubboAuthorizationPolicySpecSchema],
    ...crdDefinitions.map((def): [string, object] => [`${def.kind} CRD`, plainJsonSchema(def)]),
  ];
  for (const [name, schema] of schemas) assert.equal(draft07.validateSchema(schema), true, `${name}: ${JSON.stringify(draft07.errors)}`);
  const draft2020 = new Ajv2020({ strict: false });
  assert.equal(draft2020.validateSchema(filterConfigSchema), true, `filter-config.schema.json: ${JSON.stringify(draft2020.errors)}`);
  // The check itself can fail.
  assert.equal(draft07.validateSchema({ type: "object", properties: { a: { type: 5 } } }), false);
});

test("schema_check: MetaRouter specs: valid, unknown fields, invalid", () => {
  const valid = { hosts: ["a.ns.svc.cluster.local"], routes: [{ name: "r", route: [{ destination: { host: "a", subset: "v1" }, weight: 100 }] }] };
  assert.deepEqual(checkSpec(metaRouterSpecSchema, valid), { errors: [], unknownFields: [] });

  const unknown = { ...valid, routes: [{ ...valid.routes[0], retries: 3 }], extra: true };
  assert.deepEqual(checkSpec(metaRouterSpecSchema, unknown), { errors: [], unknownFields: ["extra", "routes[0].retries"] });

  // An invalid spec reports its errors only, not its unknown fields.
  const invalid = { ...unknown, hosts: "a" };
  assert.deepEqual(checkSpec(metaRouterSpecSchema, invalid), { errors: ["hosts: must be array"], unknownFields: [] });
});

test("schema_check: where closing a schema could let a value through (oneOf), the open schema still decides", () => {
  // {a: 1} matches both open branches (so oneOf fails) but only one closed branch.
  const schema = { type: "object", oneOf: [{ properties: { a: { type: "integer" } } }, { properties: { b: { type: "integer" } } }] };
  const report = checkSpec(schema, { a: 1 });
  assert.equal(report.errors.length > 0, true, `accepted: ${JSON.stringify(report)}`);
  assert.match(report.errors.join("; "), /must match exactly one schema in oneOf/);
  // And a monotone schema of the same shape (anyOf) accepts it, with no unknown field.
  assert.deepEqual(checkSpec({ type: "object", anyOf: [{ properties: { a: { type: "integer" } } }, { properties: { b: { type: "integer" } } }] }, { a: 1 }), { errors: [], unknownFields: [] });
});
