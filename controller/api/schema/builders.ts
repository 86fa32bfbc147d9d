// Builders for Kubernetes structural OpenAPI v3 schemas (apiextensions.k8s.io/v1 JSONSchemaProps).
//
// Structural-schema rules they keep (Kubernetes "Specifying a structural schema", KEP-2335): every node
// has a `type`; `properties` and `additionalProperties` never share a node; inside oneOf/anyOf/allOf/not
// only value validations (e.g. `required`), never type/description/default/additionalProperties/nullable,
// and every field named there is also declared in `properties`. JSON-Schema-only keywords that the CRD
// API does not accept ($ref, $defs, const, propertyNames, uniqueItems: true) are never produced.

export type Schema = { [key: string]: unknown };

export interface Common {
  description?: string;
}

export interface CelRule {
  rule: string;
  message: string;
}

function withCommon(schema: Schema, c: Common): Schema {
  return c.description ? { description: c.description, ...schema } : schema;
}

export function str(opts: Common & { minLength?: number; maxLength?: number; pattern?: string; format?: string } = {}): Schema {
  const { description, ...rest } = opts;
  return withCommon({ type: "string", ...rest }, { description });
}

export function enumOf(values: readonly string[], opts: Common = {}): Schema {
  return withCommon({ type: "string", enum: [...values] }, opts);
}

export function int(opts: Common & { minimum?: number; maximum?: number } = {}): Schema {
  const { description, ...rest } = opts;
  return withCommon({ type: "integer", format: "int64", ...rest }, { description });
}

export function num(opts: Common & { minimum?: number; maximum?: number } = {}): Schema {
  const { description, ...rest } = opts;
  return withCommon({ type: "number", ...rest }, { description });
}

export function bool(opts: Common = {}): Schema {
  return withCommon({ type: "boolean" }, opts);
}

export interface ObjectOptions extends Common {
  required?: string[];
  oneOfRequired?: string[][];
  /** At least one of these field groups is present (anyOf of `required`, a value validation). */
  anyOfRequired?: string[][];
  minProperties?: number;
  rules?: CelRule[];
}

export function obj(properties: Record<string, Schema>, opts: ObjectOptions = {}): Schema {
  const schema: Schema = { type: "object", properties };
  if (opts.required?.length) schema.required = opts.required;
  if (opts.minProperties !== undefined) schema.minProperties = opts.minProperties;
  if (opts.oneOfRequired) schema.oneOf = opts.oneOfRequired.map((r) => ({ required: r }));
  if (opts.anyOfRequired) schema.anyOf = opts.anyOfRequired.map((r) => ({ required: r }));
  if (opts.rules?.length) schema["x-kubernetes-validations"] = opts.rules;
  return withCommon(schema, opts);
}

/** An object whose keys are free (a map) and whose values follow `values`. */
export function map(values: Schema, opts: Common & { maxProperties?: number; rules?: CelRule[] } = {}): Schema {
  const schema: Schema = { type: "object", additionalProperties: values };
  if (opts.maxProperties !== undefined) schema.maxProperties = opts.maxProperties;
  if (opts.rules?.length) schema["x-kubernetes-validations"] = opts.rules;
  return withCommon(schema, opts);
}

export function arr(items: Schema, opts: Common & { minItems?: number; maxItems: number; listType?: "atomic" | "set" } ): Schema {
  const { description, listType, ...rest } = opts;
  const schema: Schema = { type: "array", items, ...rest };
  if (listType) schema["x-kubernetes-list-type"] = listType;
  return withCommon(schema, { description });
}
