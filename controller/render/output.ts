// Writing objects and diagnostics.
import { stringify } from "yaml";
import { describeRef } from "../k8s/objects";
import type { Diagnostic } from "../translate/diagnostics";
import { plainYamlDocuments } from "./plain_yaml";

const yamlOptions = { lineWidth: 0, aliasDuplicateObjects: false } as const;

/** Multi-document YAML. plain_yaml.ts writes yaml's exact bytes fast; what it does not cover goes to yaml. */
export function toYaml(objects: readonly object[]): string {
  return plainYamlDocuments(objects, (o) => stringify(o, yamlOptions));
}

export function toJson(objects: readonly object[]): string {
  return `${JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }, null, 2)}\n`;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.severity}: ${describeRef(d.object)}: ${d.path ? `${d.path}: ` : ""}${d.reason}: ${d.message}`;
}
