// Writes a limiter's status.metricStatus, status.ratelimitStatus and its conditions (MetricsAvailable,
// TemplatesValid) through the controller's one status writer (controller/runtime/status_patch.ts), so
// the runtime's Ready condition on the same object survives, and this one survives the runtime's.
import { inputResourceOf } from "../k8s/kinds";
import type { KubeObject, ObjectRef } from "../k8s/objects";
import type { KubeHttp } from "../runtime/kube_http";
import { objectPath } from "../runtime/resources";
import { mergeConditions, metaTime, patchStatus, type StatusCondition, type StatusOutcome } from "../runtime/status_patch";
import type { AdaptiveStatus } from "./status";

/** "gone" too for a limiter of a kind without a status (none today). */
export async function writeAdaptiveStatus(http: KubeHttp, source: ObjectRef, status: AdaptiveStatus, now = metaTime()): Promise<StatusOutcome> {
  const resource = inputResourceOf(source.apiVersion, source.kind);
  if (!resource?.hasStatus || !source.namespace) return "gone";
  const version = source.apiVersion.slice(source.apiVersion.indexOf("/") + 1);
  const path = objectPath(resource.group, version, resource.plural, source.namespace, source.name);
  // The engine's Ready (templates) is reported as TemplatesValid: Ready belongs to the runtime.
  const ours: StatusCondition[] = status.conditions.map((c) => ({ ...c, type: c.type === "Ready" ? "TemplatesValid" : c.type }));
  return patchStatus(http, path, (live: KubeObject) => {
    const liveStatus = (live.status ?? {}) as { conditions?: StatusCondition[]; metricStatus?: Record<string, unknown>; ratelimitStatus?: Record<string, unknown> };
    return {
      // Merge patches merge maps: keys no longer there (a lifted set, a gone metric) are set to null.
      metricStatus: replacing(liveStatus.metricStatus, status.metricStatus),
      ratelimitStatus: replacing(liveStatus.ratelimitStatus, status.ratelimitStatus),
      conditions: mergeConditions(liveStatus.conditions, ours, now),
    };
  });
}

/** A merge-patch value that turns `live` into `next` (top-level keys; values replace whole). */
function replacing(live: Record<string, unknown> | undefined, next: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(live ?? {})) if (!(k in next)) out[k] = null;
  for (const [k, v] of Object.entries(next)) out[k] = v;
  return out;
}
