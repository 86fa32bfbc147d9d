// Admin-side object helpers for the controller tests: plain JSON through the controller's own raw
// client (client-node's typed APIs would drop custom-resource fields).
import { KubeHttp, isNotFound } from "../../controller/runtime/kube_http";
import { collectionPath, objectPath } from "../../controller/runtime/resources";
import type { KubeObject } from "../../controller/k8s/objects";
import type { KubeApiserver } from "./apiserver";

export interface Kind {
  group: string;
  version: string;
  plural: string;
  namespaced?: boolean;
}

export const K = {
  service: { group: "", version: "v1", plural: "services" },
  namespace: { group: "", version: "v1", plural: "namespaces", namespaced: false },
  event: { group: "", version: "v1", plural: "events" },
  lease: { group: "coordination.k8s.io", version: "v1", plural: "leases" },
  destinationRule: { group: "networking.istio.io", version: "v1", plural: "destinationrules" },
  serviceEntry: { group: "networking.istio.io", version: "v1", plural: "serviceentries" },
  envoyFilter: { group: "networking.istio.io", version: "v1alpha3", plural: "envoyfilters" },
  wasmPlugin: { group: "extensions.istio.io", version: "v1alpha1", plural: "wasmplugins" },
  trafficExtension: { group: "extensions.istio.io", version: "v1alpha1", plural: "trafficextensions" },
  crd: { group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", namespaced: false },
  rpcRouter: { group: "meltemi.dev", version: "v1alpha1", plural: "rpcrouters" },
  rpcRateLimit: { group: "meltemi.dev", version: "v1alpha1", plural: "rpcratelimits" },
  smartLimiter: { group: "microservice.slime.io", version: "v1alpha2", plural: "smartlimiters" },
  rpcProtocol: { group: "meltemi.dev", version: "v1alpha1", plural: "rpcprotocols", namespaced: false },
  metaRouter: { group: "metaprotocol.aeraki.io", version: "v1alpha1", plural: "metarouters" },
  applicationProtocol: { group: "metaprotocol.aeraki.io", version: "v1alpha1", plural: "applicationprotocols" },
  dubboAuthorizationPolicy: { group: "dubbo.aeraki.io", version: "v1alpha1", plural: "dubboauthorizationpolicies" },
} satisfies Record<string, Kind>;

export interface Condition { type: string; status: string; reason: string; message: string; observedGeneration?: number; lastTransitionTime?: string }

export class Cluster {
  readonly http: KubeHttp;
  constructor(kube: KubeApiserver) {
    this.http = new KubeHttp(kube.kubeConfig());
  }

  private ns(kind: Kind, namespace?: string): string | undefined {
    return kind.namespaced === false ? undefined : namespace;
  }

  create(kind: Kind, obj: KubeObject): Promise<KubeObject> {
    return this.http.request("POST", collectionPath(kind.group, kind.version, kind.plural, this.ns(kind, obj.metadata.namespace)), { body: obj });
  }

  async get(kind: Kind, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
    try {
      return await this.http.request<KubeObject>("GET", objectPath(kind.group, kind.version, kind.plural, this.ns(kind, namespace), name));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list(kind: Kind, namespace?: string, labelSelector?: string): Promise<KubeObject[]> {
    const r = await this.http.request<{ items: KubeObject[] }>("GET", collectionPath(kind.group, kind.version, kind.plural, this.ns(kind, namespace)), { query: { labelSelector } });
    return r.items;
  }

  patch(kind: Kind, namespace: string | undefined, name: string, body: unknown): Promise<KubeObject> {
    return this.http.request("PATCH", objectPath(kind.group, kind.version, kind.plural, this.ns(kind, namespace), name), { body, patch: "merge" });
  }

  async delete(kind: Kind, namespace: string | undefined, name: string): Promise<void> {
    await this.http.request("DELETE", objectPath(kind.group, kind.version, kind.plural, this.ns(kind, namespace), name));
  }

  /** Meltemi's outputs (label managed-by=meltemi) of one kind in a namespace. */
  owned(kind: Kind, namespace: string): Promise<KubeObject[]> {
    return this.list(kind, namespace, "app.kubernetes.io/managed-by=meltemi");
  }

  async ready(kind: Kind, namespace: string | undefined, name: string): Promise<Condition | undefined> {
    const obj = await this.get(kind, namespace, name);
    return ((obj?.status as { conditions?: Condition[] } | undefined)?.conditions ?? []).find((c) => c.type === "Ready");
  }
}
