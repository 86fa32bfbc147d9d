// Sorting loaded objects into the translation's snapshot by apiVersion and kind (the registry of input
// kinds, controller/k8s/kinds.ts). Objects of other kinds (Deployments in a demo file...) are counted
// and left out.
import { inputResourceOfVersion } from "../k8s/kinds";
import type { KubeObject } from "../k8s/objects";
import { emptySnapshot, type Snapshot } from "../translate/snapshot";
import type { LoadedObject } from "./load";

export interface Classified {
  snapshot: Snapshot;
  /** kind -> count of objects left out. */
  ignored: Map<string, number>;
}

/** `namespace` is applied to namespaced objects without one (as kubectl does). */
export function classify(loaded: LoadedObject[], namespace: string): Classified {
  const snapshot = emptySnapshot();
  const ignored = new Map<string, number>();
  for (const { object } of loaded) {
    const where = inputResourceOfVersion(object.apiVersion, object.kind);
    if (!where) {
      const key = `${object.apiVersion} ${object.kind}`;
      ignored.set(key, (ignored.get(key) ?? 0) + 1);
      continue;
    }
    const metadata = { ...object.metadata };
    if (!where.namespaced || where.clusterWide) delete metadata.namespace;
    else metadata.namespace ??= namespace;
    (snapshot[where.slot] as KubeObject[]).push({ ...object, metadata });
  }
  return { snapshot, ignored };
}
