// A Meltemi CRD definition -> apiextensions.k8s.io/v1 CustomResourceDefinition, and its plain JSON
// Schema (for generating TypeScript types and for validating objects offline with ajv).
import { status } from "./schema/common";
import { GROUP, VERSION, type CrdDefinition } from "./schema/definition";
import type { Schema } from "./schema/builders";

export function objectSchema(def: CrdDefinition): Schema {
  const metadata: Schema = def.name
    ? { type: "object", properties: { name: { type: "string", pattern: def.name.pattern, maxLength: def.name.maxLength } } }
    : { type: "object" };
  return {
    type: "object",
    description: def.description,
    required: ["spec"],
    properties: {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata,
      spec: def.spec,
      status: def.statusFields ? { ...status, properties: { ...(status.properties as Schema), ...def.statusFields } } : status,
    },
  };
}

export function customResourceDefinition(def: CrdDefinition): Schema {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { "app.kubernetes.io/name": "meltemi", "app.kubernetes.io/part-of": "meltemi" },
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: ["meltemi"],
      },
      scope: def.scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: objectSchema(def) },
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
        },
      ],
    },
  };
}

/**
 * The object schema as plain JSON Schema: Kubernetes extensions (x-kubernetes-*) removed, which
 * JSON Schema tools do not know. CEL rules are therefore not checked offline.
 */
export function plainJsonSchema(def: CrdDefinition): Schema {
  return stripKubernetesExtensions(objectSchema(def)) as Schema;
}

function stripKubernetesExtensions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripKubernetesExtensions);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith("x-kubernetes-")) continue;
    out[k] = stripKubernetesExtensions(v);
  }
  return out;
}
