// Diagnostics: what the translation could not do, or did differently than asked, about which input.
// Nothing a user wrote is dropped without one. The runtime turns them into status conditions and
// events; `render` prints them on stderr.
import type { ObjectRef } from "../k8s/objects";

export type Severity = "error" | "warning" | "info";

export interface Diagnostic {
  severity: Severity;
  object: ObjectRef;
  /** UpperCamelCase, as Kubernetes condition reasons. */
  reason: string;
  message: string;
  /** Where in the object, e.g. spec.routes[0].mirror. */
  path?: string;
}

export class Diagnostics {
  readonly items: Diagnostic[] = [];

  add(severity: Severity, object: ObjectRef, reason: string, message: string, path?: string): void {
    const d: Diagnostic = { severity, object, reason, message };
    if (path !== undefined) d.path = path;
    this.items.push(d);
  }
  error(object: ObjectRef, reason: string, message: string, path?: string): void { this.add("error", object, reason, message, path); }
  warn(object: ObjectRef, reason: string, message: string, path?: string): void { this.add("warning", object, reason, message, path); }
  info(object: ObjectRef, reason: string, message: string, path?: string): void { this.add("info", object, reason, message, path); }
}
