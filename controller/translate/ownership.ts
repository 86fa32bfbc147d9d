// Labels, annotations, names and owner references of generated objects.
//
// Every generated object carries `app.kubernetes.io/managed-by: meltemi`, and the input it came from:
// - in the same namespace as that input (with a uid, i.e. read from the API server): an ownerReference
//   (controller: true), so Kubernetes garbage-collects it with its input;
// - in another namespace (a router's callers elsewhere): Kubernetes forbids cross-namespace owners, so
//   the annotation `meltemi.dev/owner: <kind>/<namespace>/<name>` and the label `meltemi.dev/owner-uid`
//   name it, and the runtime deletes such objects itself when their input is gone.
// `render` reads files without uids: its output has no ownerReferences.
import { createHash } from "node:crypto";
import { MANAGED_BY, MANAGED_BY_LABEL, objectKey, type ObjectMeta, type ObjectRef } from "../k8s/objects";

export const OWNER_ANNOTATION = "meltemi.dev/owner";
export const OWNER_UID_LABEL = "meltemi.dev/owner-uid";
export const ROLE_LABEL = "meltemi.dev/role";

export function generatedMeta(name: string, namespace: string, owner: ObjectRef, role: "server" | "client"): ObjectMeta {
  const meta: ObjectMeta = {
    name,
    namespace,
    labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [ROLE_LABEL]: role },
    annotations: { [OWNER_ANNOTATION]: objectKey(owner) },
  };
  if (owner.uid) {
    meta.labels![OWNER_UID_LABEL] = owner.uid;
    if (owner.namespace === namespace) {
      meta.ownerReferences = [{ apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: false }];
    }
  }
  return meta;
}

const VALID_AS_IS = /^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$/;

/** A DNS-1123 subdomain from parts: lower-cased, invalid characters replaced, hashed down to 253. */
export function objectName(...parts: (string | number)[]): string {
  const raw = parts.join("-").toLowerCase();
  // Already a valid name (the usual case): the replacements below would leave it unchanged.
  if (raw.length <= 253 && VALID_AS_IS.test(raw)) return raw;
  let name = raw.replace(/[^a-z0-9.-]+/g, "-").replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
  if (name.length > 253) {
    const hash = createHash("sha256").update(raw).digest("hex").slice(0, 10);
    name = `${name.slice(0, 242).replace(/[^a-z0-9]+$/, "")}-${hash}`;
  }
  return name;
}

/** A host without the cluster's service suffix (reviews.default.svc.cluster.local -> reviews.default). */
export function shortHost(host: string, clusterDomain: string): string {
  const suffix = `.svc.${clusterDomain}`;
  return host.endsWith(suffix) ? host.slice(0, -suffix.length) : host;
}
