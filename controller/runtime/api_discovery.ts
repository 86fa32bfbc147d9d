// API discovery: which version of each resource the API server serves now, and at which scope.
// Read at start and every --discovery-interval, so CRDs installed later (Aeraki's, Istio's) are picked
// up and watched without a restart. Discovery documents are readable by every authenticated user
// (the system:discovery ClusterRole), so this needs no RBAC rule of its own.
import { isNotFound, type KubeHttp } from "./kube_http";
import type { Resource } from "./resources";

export interface Served {
  version: string;
  namespaced: boolean;
}

interface ApiResourceList {
  resources?: { name: string; namespaced: boolean; kind: string }[];
}

export async function discover(http: KubeHttp, resources: readonly Resource[]): Promise<Map<Resource, Served>> {
  const documents = new Map<string, Promise<ApiResourceList | undefined>>();
  const fetchDocument = (group: string, version: string) => {
    const path = group === "" ? `/api/${version}` : `/apis/${group}/${version}`;
    let doc = documents.get(path);
    if (!doc) {
      doc = http.request<ApiResourceList>("GET", path).catch((err: unknown) => {
        if (isNotFound(err)) return undefined;
        throw err;
      });
      documents.set(path, doc);
    }
    return doc;
  };
  const served = new Map<Resource, Served>();
  for (const r of resources) {
    for (const version of r.versions) {
      const doc = await fetchDocument(r.group, version);
      const entry = doc?.resources?.find((e) => e.name === r.plural);
      if (entry) {
        served.set(r, { version, namespaced: entry.namespaced });
        break;
      }
    }
  }
  return served;
}
