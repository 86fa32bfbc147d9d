// Unknown fields in an object that shapes traffic or policy refuse the whole object. Dropping them
// (what the API server's pruning would do) can apply it more broadly than written: a route whose
// `mach:` is dropped catches every request, a `weigth:` dropped sends everything to the other
// destination, a DENY rule whose `namespace:` is dropped denies every caller, and a whole `spce:`
// dropped leaves an ALLOW policy without rules: every call denied.
import type { ObjectRef } from "../k8s/objects";
import type { Diagnostics } from "./diagnostics";

/** The top-level keys of a Kubernetes object of a CRD kind; anything else is misspelled. */
const TOP_LEVEL_KEYS: ReadonlySet<string> = new Set(["apiVersion", "kind", "metadata", "spec", "status"]);

/** The object's top-level keys that no Kubernetes object has (e.g. `spce`). */
export function unknownTopLevelKeys(obj: object): string[] {
  return Object.keys(obj).filter((k) => !TOP_LEVEL_KEYS.has(k));
}

/** One error per unknown field (its path, e.g. spec.routes[0].mach); true when there was any. */
export function refuseUnknownFields(paths: readonly string[], prefix: string, kind: string, ref: ObjectRef, diags: Diagnostics): boolean {
  for (const p of paths) {
    const path = prefix === "" ? p : `${prefix}.${p}`;
    diags.error(ref, "UnknownField", `"${path.slice(path.lastIndexOf(".") + 1)}" is not a ${kind} field (misspelled?): the ${kind} is not applied, since without it the object could apply more broadly than written`, path);
  }
  return paths.length > 0;
}

/** refuseUnknownFields for the object's top-level keys; true when there was any. */
export function refuseUnknownTopLevelKeys(obj: object, kind: string, ref: ObjectRef, diags: Diagnostics): boolean {
  return refuseUnknownFields(unknownTopLevelKeys(obj), "", kind, ref, diags);
}
