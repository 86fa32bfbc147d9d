// Diagnostics: what the translation could not do, or did differently than asked, about which input.
// Nothing a user wrote is dropped without one. The runtime turns them into status conditions and
// events; `render` prints them on stderr.
import type { ObjectRef } from "../k8s/objects";

/**
 * error: the object is refused (none of it is applied; the runtime keeps its last good outputs).
 * degraded: the object is applied, but part of what it asks for is not in force (a feature Meltemi
 * does not have, a protocol without a codec...): its Ready condition is False all the same.
 * warning / info: applied as written; something worth knowing.
 */
export type Severity = "error" | "degraded" | "warning" | "info";

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
  /** Part of the object's intent is not in force (Ready=False, the rest still applied). */
  degrade(object: ObjectRef, reason: string, message: string, path?: string): void { this.add("degraded", object, reason, message, path); }
  warn(object: ObjectRef, reason: string, message: string, path?: string): void { this.add("warning", object, reason, message, path); }
  info(object: ObjectRef, reason: string, message: string, path?: string): void { this.add("info", object, reason, message, path); }
}
