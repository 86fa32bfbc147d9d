// Writes each input's Ready condition into its status subresource through the one status writer
// (status_patch.ts: conditions merged by type, lastTransitionTime kept while the status stays the same,
// a conflict read again). Unchanged conditions are not written again. An input whose status cannot be
// written (a CRD without the status subresource) gets an Event.
import type { Logger } from "pino";
import { inputResourceOf } from "../k8s/kinds";
import { describeRef, type KubeObject } from "../k8s/objects";
import type { InputStatus } from "../translate/status";
import type { EventRecorder } from "./events";
import type { Informers } from "./informers";
import { KubeError, type KubeHttp } from "./kube_http";
import { forEachLimited, WRITE_CONCURRENCY } from "./parallel";
import { objectPath } from "./resources";
import { mergeConditions, metaTime, patchStatus, sameCondition, type StatusCondition } from "./status_patch";

interface LiveStatus {
  observedGeneration?: number;
  conditions?: StatusCondition[];
}

/** The status to write, or undefined when the live one already says it. */
export function nextStatus(live: KubeObject | undefined, wanted: InputStatus, now: string): LiveStatus | undefined {
  const current = (live?.status ?? {}) as LiveStatus;
  const ready = wanted.conditions[0]!;
  const liveReady = current.conditions?.find((c) => c.type === "Ready");
  if (sameCondition(liveReady, ready) && current.observedGeneration === wanted.observedGeneration) return undefined;
  const status: LiveStatus = { conditions: mergeConditions(current.conditions, [ready], now) };
  if (wanted.observedGeneration !== undefined) status.observedGeneration = wanted.observedGeneration;
  return status;
}

export interface StatusResult {
  written: number;
  errors: Error[];
}

export async function writeStatuses(http: KubeHttp, informers: Informers, events: EventRecorder, statuses: InputStatus[], log: Logger): Promise<StatusResult> {
  const result: StatusResult = { written: 0, errors: [] };
  const now = metaTime();
  await forEachLimited(statuses, WRITE_CONCURRENCY, async (wanted) => {
    const ref = wanted.object;
    const resource = inputResourceOf(ref.apiVersion, ref.kind);
    const served = resource && informers.served(resource);
    if (!resource || !served) return;
    const live = informers.input(resource, ref.namespace, ref.name);
    if (!live) return; // deleted since the snapshot
    const namespace = served.namespaced ? ref.namespace : undefined;
    try {
      const path = objectPath(resource.group, served.version, resource.plural, namespace, ref.name);
      const outcome = await patchStatus(http, path, (l) => nextStatus(l, wanted, now) as Record<string, unknown> | undefined, live);
      if (outcome === "written") result.written++;
    } catch (err) {
      if (err instanceof KubeError && err.code === 404 && resource.hasStatus) {
        // No status subresource (or the object just went): say it with an Event instead.
        const c = wanted.conditions[0]!;
        await events.record(ref, c.status === "True" ? "Normal" : "Warning", c.reason, c.message);
        log.debug({ object: describeRef(ref) }, "status not writable; recorded an event");
      } else if (!(err instanceof KubeError && err.code === 409)) {
        result.errors.push(err as Error);
      }
    }
  });
  return result;
}
