// Sorting loaded objects into the translation's snapshot by apiVersion and kind. Objects of other kinds
// (Deployments in a demo file...) are counted and left out.
import { API_VERSION } from "../api/schema/definition";
import { SLIME_API_VERSION, SMART_LIMITER } from "../adaptive/smart_limiter";
import { DUBBO_API, METAPROTOCOL_API } from "../k8s/aeraki";
import type { KubeObject } from "../k8s/objects";
import { emptySnapshot, type Snapshot } from "../translate/snapshot";
import type { LoadedObject } from "./load";

const ISTIO_NETWORKING = /^networking\.istio\.io\/v1(alpha3|beta1)?$/;

type Slot = keyof Snapshot;

function slotOf(obj: KubeObject): { slot: Slot; clusterScoped?: boolean } | undefined {
  const { apiVersion, kind } = obj;
  if (apiVersion === "v1" && kind === "Service") return { slot: "services" };
  if (ISTIO_NETWORKING.test(apiVersion)) {
    if (kind === "ServiceEntry") return { slot: "serviceEntries" };
    if (kind === "DestinationRule") return { slot: "destinationRules" };
  }
  if (apiVersion === API_VERSION) {
    if (kind === "RpcProtocol") return { slot: "rpcProtocols", clusterScoped: true };
    if (kind === "RpcRouter") return { slot: "rpcRouters" };
    if (kind === "RpcRateLimit") return { slot: "rpcRateLimits" };
    if (kind === "RpcAuthorizationPolicy") return { slot: "rpcAuthorizationPolicies" };
  }
  if (apiVersion === METAPROTOCOL_API) {
    if (kind === "ApplicationProtocol") return { slot: "applicationProtocols", clusterScoped: true };
    if (kind === "MetaRouter") return { slot: "metaRouters" };
  }
  if (apiVersion === DUBBO_API && kind === "DubboAuthorizationPolicy") return { slot: "dubboAuthorizationPolicies" };
  if (apiVersion === SLIME_API_VERSION && kind === SMART_LIMITER) return { slot: "smartLimiters" };
  return undefined;
}

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
    const where = slotOf(object);
    if (!where) {
      const key = `${object.apiVersion} ${object.kind}`;
      ignored.set(key, (ignored.get(key) ?? 0) + 1);
      continue;
    }
    const metadata = { ...object.metadata };
    if (where.clusterScoped) delete metadata.namespace;
    else metadata.namespace ??= namespace;
    (snapshot[where.slot] as KubeObject[]).push({ ...object, metadata });
  }
  return { snapshot, ignored };
}
