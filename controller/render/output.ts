// Writing objects and diagnostics.
import { stringify } from "yaml";
import { describeRef } from "../k8s/objects";
import type { Diagnostic } from "../translate/diagnostics";

export function toYaml(objects: readonly object[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })).join("---\n");
}

export function toJson(objects: readonly object[]): string {
  return `${JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }, null, 2)}\n`;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.severity}: ${describeRef(d.object)}: ${d.path ? `${d.path}: ` : ""}${d.reason}: ${d.message}`;
}
