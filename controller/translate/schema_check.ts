// Schema checks with ajv: Meltemi objects against their CRD schema (what the API server admits),
// Aeraki objects against the shape of their protos, and every filter configuration against the filter's
// own schema (filter/config/filter-config.schema.json, the contract with the filter).
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020";
import filterConfigSchema from "../../filter/config/filter-config.schema.json" with { type: "json" };
import { plainJsonSchema } from "../api/crd";
import type { CrdDefinition } from "../api/schema/definition";

export interface SchemaReport {
  /** Violations: the object is invalid. */
  errors: string[];
  /**
   * Paths of the fields the schema does not know, e.g. `routes[0].mach` (the API server would prune
   * them). The readers refuse such an object: without a misspelled field it would often apply more
   * broadly than written (a route without its match catches every request).
   */
  unknownFields: string[];
}

// validateSchema: false skips checking each schema against its meta-schema on compile (compiling the
// meta-schemas first), about 250 ms of a 10,000-service render on a 2-core machine; the schemas are
// the project's own, and test/controller/schema_check.test.ts checks them against their meta-schemas.
const AJV_OPTIONS = { strict: false, allErrors: true, validateFormats: false, validateSchema: false } as const;
const ajv = new Ajv(AJV_OPTIONS);
const ajv2020 = new Ajv2020(AJV_OPTIONS);
const cache = new Map<object, Validators>();

/** `/routes/0/match` + `mach` -> `routes[0].match.mach`. */
function unknownFieldPath(e: ErrorObject): string {
  const parts = e.instancePath.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  let out = "";
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : `${out === "" ? "" : "."}${p}`;
  const field = String(e.params.additionalProperty);
  return out === "" ? field : `${out}.${field}`;
}

function formatError(e: ErrorObject): string {
  const where = e.instancePath === "" ? "(root)" : e.instancePath.slice(1).replace(/\//g, ".");
  if (e.keyword === "additionalProperties") return `${where}: unknown field "${String(e.params.additionalProperty)}"`;
  if (e.keyword === "enum") return `${where}: must be one of ${JSON.stringify(e.params.allowedValues)}`;
  return `${where}: ${e.message ?? e.keyword}`;
}

/** The same schema with `additionalProperties: false` on every object that lists its properties. */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (schema === null || typeof schema !== "object") return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === "enum" ? v : closed(v);
  if ("properties" in out && !("additionalProperties" in out)) out.additionalProperties = false;
  return out;
}

// Keywords under which a stricter subschema can make the whole schema accept MORE, and references that
// closed() does not reach. Without them, "additionalProperties: false" added everywhere only rejects
// more: whatever the closed schema accepts, the open one accepts too.
const NOT_MONOTONE = new Set(["not", "oneOf", "if", "then", "else", "maxContains", "unevaluatedProperties", "unevaluatedItems", "const", "$dynamicRef", "$recursiveRef"]);

function closingOnlyRejectsMore(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.every(closingOnlyRejectsMore);
  if (schema === null || typeof schema !== "object") return true;
  for (const [k, v] of Object.entries(schema)) {
    if (k === "enum") continue;
    if (NOT_MONOTONE.has(k) || (k === "$ref" && !(typeof v === "string" && v.startsWith("#")))) return false;
    if (!closingOnlyRejectsMore(v)) return false;
  }
  return true;
}

interface Validators {
  open: () => ValidateFunction;
  closed: ValidateFunction;
  /** The closed schema accepting a value proves the open one does: one validation instead of two. */
  closedFirst: boolean;
}

function validators(key: object, schemaOf: () => object): Validators {
  let v = cache.get(key);
  if (!v) {
    const schema = schemaOf();
    let open: ValidateFunction | undefined;
    // Compiled when first needed: with closedFirst, only for values the closed schema rejects.
    v = { open: () => (open ??= ajv.compile(schema)), closed: ajv.compile(closed(schema) as object), closedFirst: closingOnlyRejectsMore(schema) };
    cache.set(key, v);
  }
  return v;
}

function check(key: object, schemaOf: () => object, value: unknown): SchemaReport {
  const v = validators(key, schemaOf);
  if (v.closedFirst && v.closed(value)) return { errors: [], unknownFields: [] };
  const open = v.open();
  if (!open(value)) return { errors: (open.errors ?? []).map(formatError), unknownFields: [] };
  if (!v.closedFirst && v.closed(value)) return { errors: [], unknownFields: [] };
  const unknownFields = (v.closed.errors ?? []).filter((e) => e.keyword === "additionalProperties").map(unknownFieldPath);
  return { errors: [], unknownFields };
}

/** A whole Meltemi object (apiVersion, kind, metadata.name, spec) against its CRD schema. */
export function checkMeltemiObject(def: CrdDefinition, obj: unknown): SchemaReport {
  const report = check(def, () => plainJsonSchema(def), obj);
  // metadata holds much more than the schema lists (the API server keeps it): not "unknown".
  report.unknownFields = report.unknownFields.filter((f) => !f.startsWith("metadata"));
  return report;
}

/** An Aeraki spec against the shape of its proto. */
export function checkSpec(schema: object, spec: unknown): SchemaReport {
  return check(schema, () => schema, spec);
}

let filterValidator: ValidateFunction | undefined;

/** Problems of a filter configuration under filter/config/filter-config.schema.json ([] when valid). */
export function filterConfigProblems(config: unknown): string[] {
  filterValidator ??= ajv2020.compile(filterConfigSchema);
  return filterValidator(config) ? [] : (filterValidator.errors ?? []).map(formatError);
}

