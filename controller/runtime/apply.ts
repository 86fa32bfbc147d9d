// Makes the cluster's Meltemi-owned outputs equal the desired ones: server-side apply (field manager
// "meltemi", forced: Meltemi owns these objects) of what changed, delete of what is no longer desired.
// Only objects labelled app.kubernetes.io/managed-by=meltemi are ever changed or deleted: a user's object
// with the name Meltemi would use is left alone and reported on the input that wanted it. An output made
// from several inputs (the rate limit service's ConfigMap: annotation meltemi.dev/sources) reports on
// each of them.
import { apiVersionOf, INPUTS } from "../k8s/kinds";
import { MANAGED_BY, MANAGED_BY_LABEL, objectKey, type KubeObject, type ObjectRef } from "../k8s/objects";
import type { Diagnostic } from "../translate/diagnostics";
import { OWNER_ANNOTATION } from "../translate/ownership";
import { SOURCES_ANNOTATION } from "../translate/slime_global";
import { isOwned, type Informers } from "./informers";
import { isNotFound, type KubeHttp } from "./kube_http";
import { forEachLimited, WRITE_CONCURRENCY } from "./parallel";
import { objectPath, OUTPUTS, type OutputResource } from "./resources";
import { stableHash, stableJson } from "./stable_json";

export const FIELD_MANAGER = "meltemi";
/** Hash of the desired object as last applied: unchanged desired objects are not re-applied. */
export const DESIRED_HASH_ANNOTATION = "meltemi.dev/desired-hash";

export interface ApplyResult {
  applied: number;
  deleted: number;
  unchanged: number;
  /** Outputs kept because their input is invalid now (its last good outputs stay in force). */
  kept: number;
  /** Problems to report on inputs (a name taken by a user's object, an output kind not served). */
  diagnostics: Diagnostic[];
  errors: Error[];
}

const outputKey = (kind: string, namespace: string | undefined, name: string) => objectKey({ kind, namespace, name });

function resourceOf(kind: string): OutputResource | undefined {
  return OUTPUTS.find((r) => r.kind === kind);
}

function upToDate(live: KubeObject, desired: KubeObject, hash: string): boolean {
  return live.metadata.annotations?.[DESIRED_HASH_ANNOTATION] === hash &&
    live.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY &&
    stableJson(live.spec) === stableJson(desired.spec) &&
    stableJson(live.data) === stableJson(desired.data);
}

/** The input named by an output's owner annotation (`Kind/namespace/name`). */
function ownerOf(obj: KubeObject): string | undefined {
  return obj.metadata.annotations?.[OWNER_ANNOTATION];
}

export function ownerKey(ref: ObjectRef): string {
  return objectKey(ref);
}

export interface ApplyInput {
  desired: KubeObject[];
  /** Owner keys (Kind/namespace/name) of inputs that are invalid now: their outputs are not deleted. */
  invalidOwners: Set<string>;
  /**
   * Kinds of inputs watched now. An output whose owner is of another kind (its CRD not served, or not
   * registered yet by an API server that is starting) is kept: its input is unknown, not gone.
   */
  watchedKinds: Set<string>;
  /** Is this replica still allowed to write (the leader)? Checked before every write. */
  mayWrite: () => boolean;
}

export async function applyOutputs(http: KubeHttp, informers: Informers, input: ApplyInput): Promise<ApplyResult> {
  const result: ApplyResult = { applied: 0, deleted: 0, unchanged: 0, kept: 0, diagnostics: [], errors: [] };
  const desiredKeys = new Set(input.desired.map((d) => outputKey(d.kind, d.metadata.namespace, d.metadata.name ?? "")));
  await forEachLimited(input.desired, WRITE_CONCURRENCY, async (desired) => {
    const { namespace, name } = desired.metadata as { namespace?: string; name: string };
    const owners = ownerRefsOf(desired);
    const resource = resourceOf(desired.kind);
    const served = resource && informers.served(resource);
    if (!resource || !served) {
      for (const owner of owners) result.diagnostics.push({ severity: "error", object: owner, reason: "OutputNotServed", message: `the API server does not serve ${desired.apiVersion} ${desired.kind} (is Istio's CRD installed?); ${desired.kind} ${namespace}/${name} cannot be written` });
      return;
    }
    const hash = stableHash(desired);
    const seen = informers.outputObject(resource, namespace, name);
    if (seen && !isOwned(seen)) {
      for (const owner of owners) result.diagnostics.push(nameTaken(owner, desired, resource));
      return;
    }
    const live = seen;
    if (live && upToDate(live, desired, hash)) {
      result.unchanged++;
      return;
    }
    const path = objectPath(resource.group, served.version, resource.plural, namespace, name);
    try {
      if (!live) {
        // Not seen yet: is the name taken by someone else's object the watch has not delivered?
        const existing = await http.request<KubeObject>("GET", path).catch((err: unknown) => {
          if (isNotFound(err)) return undefined;
          throw err;
        });
        if (existing && existing.metadata.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY) {
          for (const owner of owners) result.diagnostics.push(nameTaken(owner, desired, resource));
          return;
        }
      }
      if (!input.mayWrite()) return;
      const body = {
        ...desired,
        apiVersion: `${resource.group}/${served.version}`,
        metadata: { ...desired.metadata, annotations: { ...desired.metadata.annotations, [DESIRED_HASH_ANNOTATION]: hash } },
      };
      await http.request("PATCH", path, { body, patch: "apply", query: { fieldManager: FIELD_MANAGER, force: true } });
      result.applied++;
    } catch (err) {
      result.errors.push(err as Error);
      if (resource.notWrittenReason) {
        for (const owner of owners) result.diagnostics.push({ severity: "degraded", object: owner, reason: resource.notWrittenReason, message: `${desired.kind} ${namespace}/${name} could not be written (retrying): ${(err as Error).message}` });
      }
    }
  });

  const stale = informers.owned().filter(({ object }) => !desiredKeys.has(outputKey(object.kind, object.metadata.namespace, object.metadata.name ?? "")));
  await forEachLimited(stale, WRITE_CONCURRENCY, async ({ resource, served, object }) => {
    const { namespace, name, uid } = object.metadata as { namespace?: string; name: string; uid?: string };
    // Never touch an object without the label (owned() only lists labelled ones; checked again here).
    if (object.metadata.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY) return;
    const owner = ownerOf(object);
    if (owner && (input.invalidOwners.has(owner) || !input.watchedKinds.has(owner.split("/")[0]!))) {
      result.kept++;
      return;
    }
    if (!input.mayWrite()) return;
    try {
      // The uid precondition: never delete a newer object of the same name the reflector has not seen.
      await http.request("DELETE", objectPath(resource.group, served.version, resource.plural, namespace, name), {
        body: { apiVersion: "v1", kind: "DeleteOptions", preconditions: { uid } },
      });
      result.deleted++;
    } catch (err) {
      if (!isNotFound(err)) result.errors.push(err as Error);
    }
  });
  // Writes ran concurrently: a stable order keeps status messages (which join diagnostics) stable.
  result.diagnostics.sort((a, b) => (ownerKey(a.object) + a.message < ownerKey(b.object) + b.message ? -1 : 1));
  return result;
}

function nameTaken(owner: ObjectRef, desired: KubeObject, resource: OutputResource): Diagnostic {
  const { namespace, name } = desired.metadata;
  return { severity: "error", object: owner, reason: resource.takenReason ?? "NameTaken", message: `${desired.kind} ${namespace}/${name} exists and is not managed by Meltemi (no label ${MANAGED_BY_LABEL}=${MANAGED_BY}); it is left alone, so this is not applied` };
}

/**
 * The inputs a desired object came from: its sources annotation (an object made from several inputs)
 * or its owner annotation (`Kind/namespace/name` each).
 */
function ownerRefsOf(obj: KubeObject): ObjectRef[] {
  const sources = obj.metadata.annotations?.[SOURCES_ANNOTATION]?.split(",").filter((k) => k !== "");
  return (sources?.length ? sources : [ownerOf(obj) ?? ""]).map((key) => {
    const [kind = "", namespace = "", name = ""] = key.split("/");
    // Without an ownerReference (an owner in another namespace), the served version is unknown here:
    // the registry's preferred one names the kind (statuses and events look inputs up by group and kind).
    const input = INPUTS.find((r) => r.kind === kind);
    const apiVersion = obj.metadata.ownerReferences?.[0]?.apiVersion ?? (input ? apiVersionOf(input.group, input.versions[0]!) : "");
    const ref: ObjectRef = { apiVersion, kind, name };
    if (namespace) ref.namespace = namespace;
    return ref;
  });
}
