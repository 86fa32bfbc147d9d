// Per-input status: the Ready condition of every Meltemi and Aeraki object the translation read,
// derived from its diagnostics. lastTransitionTime is the runtime's to set (it knows when the
// condition changed; the translation is pure and has no clock).
import { describeRef, type ObjectRef } from "../k8s/objects";
import type { Diagnostic } from "./diagnostics";

export interface Condition {
  type: "Ready";
  status: "True" | "False";
  reason: string;
  message: string;
  observedGeneration?: number;
}

export interface InputStatus {
  object: ObjectRef;
  /**
   * The object is refused (an error): the translation produced nothing for it, and the runtime keeps
   * its last good outputs. A degraded object is Ready=False too, but applied: not refused.
   */
  refused: boolean;
  observedGeneration?: number;
  conditions: Condition[];
}

export function refKey(ref: ObjectRef): string {
  return `${ref.apiVersion}|${ref.kind}|${ref.namespace ?? ""}|${ref.name}`;
}

const MAX_MESSAGE = 32768;

export function readyStatus(object: ObjectRef, diagnostics: readonly Diagnostic[]): InputStatus {
  const errors = diagnostics.filter((d) => d.severity === "error");
  const degraded = diagnostics.filter((d) => d.severity === "degraded");
  const warnings = diagnostics.filter((d) => d.severity === "warning");
  const lines = (ds: Diagnostic[]) => ds.map((d) => `${d.path ? `${d.path}: ` : ""}${d.message}`).join("; ");
  let condition: Condition;
  if (errors.length > 0) {
    condition = { type: "Ready", status: "False", reason: errors[0]!.reason, message: lines(errors) };
  } else if (degraded.length > 0) {
    // Ready means "what the object says is in force": not so when part of it is not applied.
    condition = { type: "Ready", status: "False", reason: degraded[0]!.reason, message: `not (all) in force: ${lines([...degraded, ...warnings])}` };
  } else if (warnings.length > 0) {
    condition = { type: "Ready", status: "True", reason: "AcceptedWithWarnings", message: lines(warnings) };
  } else {
    condition = { type: "Ready", status: "True", reason: "Accepted", message: `${describeRef(object)} is accepted` };
  }
  if (condition.message.length > MAX_MESSAGE) condition.message = `${condition.message.slice(0, MAX_MESSAGE - 3)}...`;
  const status: InputStatus = { object, refused: errors.length > 0, conditions: [condition] };
  if (object.generation !== undefined) {
    status.observedGeneration = object.generation;
    condition.observedGeneration = object.generation;
  }
  return status;
}
