// Writes each input's Ready condition into its status subresource (a merge patch by the "meltemi"
// field manager), adding lastTransitionTime: kept while the condition's status stays the same, now
// when it flips. Unchanged conditions are not written again. Conditions of other types are kept.
// An input whose status cannot be written (a CRD without the status subresource) gets an Event.
import type { Logger } from "pino";
import type { KubeObject } from "../k8s/objects";
import type { Condition, InputStatus } from "../translate/status";
import type { EventRecorder } from "./events";
import type { Informers } from "./informers";
import { KubeError, type KubeHttp } from "./kube_http";
import { forEachLimited, WRITE_CONCURRENCY } from "./parallel";
import { inputResourceOf } from "../k8s/kinds";
import { objectPath } from "./resources";

interface LiveCondition extends Partial<Omit<Condition, "type">> {
  type: string;
  lastTransitionTime?: string;
}

interface LiveStatus {
  observedGeneration?: number;
  conditions?: LiveCondition[];
}

function sameCondition(a: LiveCondition | undefined, b: Condition): boolean {
  return a !== undefined && a.status === b.status && a.reason === b.reason && a.message === b.message && a.observedGeneration === b.observedGeneration;
}

/** The status to write, or undefined when the live one already says it. */
export function nextStatus(live: KubeObject | undefined, wanted: InputStatus, now: string): LiveStatus | undefined {
  const current = (live?.status ?? {}) as LiveStatus;
  const ready = wanted.conditions[0]!;
  const liveReady = current.conditions?.find((c) => c.type === "Ready");
  if (sameCondition(liveReady, ready) && current.observedGeneration === wanted.observedGeneration) return undefined;
  const lastTransitionTime = liveReady?.status === ready.status && liveReady.lastTransitionTime ? liveReady.lastTransitionTime : now;
  const others = (current.conditions ?? []).filter((c) => c.type !== "Ready");
  const status: LiveStatus = { conditions: [...others, { ...ready, lastTransitionTime }] };
  if (wanted.observedGeneration !== undefined) status.observedGeneration = wanted.observedGeneration;
  return status;
}

export interface StatusResult {
  written: number;
  errors: Error[];
}

export async function writeStatuses(http: KubeHttp, informers: Informers, events: EventRecorder, statuses: InputStatus[], log: Logger): Promise<StatusResult> {
  const result: StatusResult = { written: 0, errors: [] };
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z"); // metav1.Time is RFC 3339 in seconds
  await forEachLimited(statuses, WRITE_CONCURRENCY, async (wanted) => {
    const ref = wanted.object;
    const resource = inputResourceOf(ref.apiVersion, ref.kind);
    const served = resource && informers.served(resource);
    if (!resource || !served) return;
    const live = informers.input(resource, ref.namespace, ref.name);
    if (!live) return; // deleted since the snapshot
    const status = nextStatus(live, wanted, now);
    if (!status) return;
    const namespace = served.namespaced ? ref.namespace : undefined;
    try {
      // The uid precondition in the patch: a recreated object of the same name is not written.
      await http.request("PATCH", `${objectPath(resource.group, served.version, resource.plural, namespace, ref.name)}/status`, {
        body: { metadata: { uid: live.metadata.uid }, status },
        patch: "merge",
        query: { fieldManager: "meltemi" },
      });
      result.written++;
    } catch (err) {
      if (err instanceof KubeError && err.code === 404 && resource.hasStatus) {
        // No status subresource (or the object just went): say it with an Event instead.
        const c = wanted.conditions[0]!;
        await events.record(ref, c.status === "True" ? "Normal" : "Warning", c.reason, c.message);
        log.debug({ object: `${ref.kind} ${ref.namespace ?? ""}/${ref.name}` }, "status not writable; recorded an event");
      } else if (!(err instanceof KubeError && err.code === 409)) {
        result.errors.push(err as Error);
      }
    }
  });
  return result;
}
