// The one way the controller writes an input's status, for every writer: the runtime's Ready
// (status_writer.ts) and the adaptive engine's conditions, metricStatus and ratelimitStatus
// (controller/adaptive/status_writer.ts).
//
// A read-modify-write of the status subresource with optimistic concurrency. Both writers put their
// conditions into `status.conditions`, and a JSON merge patch (RFC 7386) replaces a list whole: two
// writers patching from the same read would each drop the other's condition (a lost update). So each
// patch carries the resourceVersion of the object it was computed from; the API server refuses it with
// 409 Conflict when the object changed since, and the status is computed again from a fresh read.
// Server-side apply with a field manager per condition type would merge by type only where the CRD
// declares the list `x-kubernetes-list-type: map` keyed by `type`; Aeraki's and Slime's CRDs preserve
// unknown status fields instead, where a list is atomic, so SSA would not merge there.
import type { KubeObject } from "../k8s/objects";
import { KubeError, type KubeHttp } from "./kube_http";

export interface StatusCondition {
  type: string;
  status?: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

/** metav1.Time: RFC 3339 in whole seconds. */
export function metaTime(date: Date = new Date()): string {
  return date.toISOString().replace(/\.\d+Z$/, "Z");
}

export function sameCondition(a: StatusCondition | undefined, b: StatusCondition): boolean {
  return a !== undefined && a.status === b.status && a.reason === b.reason && a.message === b.message && a.observedGeneration === b.observedGeneration;
}

/**
 * The live conditions with `ours` put in by type (other types kept, in their order): lastTransitionTime
 * is kept while a condition's status stays the same, `now` when it flips or is new.
 */
export function mergeConditions(live: readonly StatusCondition[] | undefined, ours: readonly StatusCondition[], now: string): StatusCondition[] {
  const before = live ?? [];
  const merged = before.filter((c) => !ours.some((o) => o.type === c.type));
  for (const c of ours) {
    const was = before.find((l) => l.type === c.type);
    const { lastTransitionTime: _ignored, ...rest } = c;
    merged.push({ ...rest, lastTransitionTime: was?.status === c.status && was?.lastTransitionTime ? was.lastTransitionTime : now });
  }
  return merged;
}

/** Conflicts in a row before giving up (the next reconcile or refresh writes again). */
const MAX_ATTEMPTS = 5;

export type StatusOutcome = "written" | "unchanged" | "gone";

/**
 * Merge-patches `build(live)` into the status of the object at `objectPath`, or nothing when `build`
 * returns undefined (the live status already says it). The first attempt computes from `cached` when
 * given (an informer's copy, possibly stale: a conflict then reads it afresh). The patch's uid
 * precondition keeps a recreated object of the same name from being written; such an object, or one
 * gone, is "gone". A 404 of the patch itself (no status subresource) is thrown to the caller.
 */
export async function patchStatus(
  http: KubeHttp,
  objectPath: string,
  build: (live: KubeObject) => Record<string, unknown> | undefined,
  cached?: KubeObject,
): Promise<StatusOutcome> {
  let live = cached ?? (await read(http, objectPath));
  if (!live) return "gone";
  const uid = live.metadata.uid;
  for (let attempt = 1; ; attempt++) {
    const status = build(live);
    if (!status) return "unchanged";
    try {
      await http.request("PATCH", `${objectPath}/status`, {
        body: { metadata: { uid, resourceVersion: live.metadata.resourceVersion }, status },
        patch: "merge",
        query: { fieldManager: "meltemi" },
      });
      return "written";
    } catch (err) {
      if (!(err instanceof KubeError && err.code === 409) || attempt >= MAX_ATTEMPTS) throw err;
    }
    live = await read(http, objectPath);
    if (!live || live.metadata.uid !== uid) return "gone";
  }
}

async function read(http: KubeHttp, objectPath: string): Promise<KubeObject | undefined> {
  try {
    return await http.request<KubeObject>("GET", objectPath);
  } catch (err) {
    if (err instanceof KubeError && err.code === 404) return undefined;
    throw err;
  }
}
