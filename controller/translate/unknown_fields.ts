// Unknown fields in an object that shapes traffic or policy refuse the whole object. Dropping them
// (what the API server's pruning would do) can apply it more broadly than written: a route whose
// `mach:` is dropped catches every request, a `weigth:` dropped sends everything to the other
// destination, a DENY rule whose `namespace:` is dropped denies every caller.
import type { ObjectRef } from "../k8s/objects";
import type { Diagnostics } from "./diagnostics";

/** One error per unknown field (its path, e.g. spec.routes[0].mach); true when there was any. */
export function refuseUnknownFields(paths: readonly string[], prefix: string, kind: string, ref: ObjectRef, diags: Diagnostics): boolean {
  for (const p of paths) {
    const path = prefix === "" ? p : `${prefix}.${p}`;
    diags.error(ref, "UnknownField", `"${path.slice(path.lastIndexOf(".") + 1)}" is not a ${kind} field (misspelled?): the ${kind} is not applied, since without it the object could apply more broadly than written`, path);
  }
  return paths.length > 0;
}
