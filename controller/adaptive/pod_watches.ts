// The adaptive engine's view of pods: EndpointSlices (the ready pods of each limited service) and, for
// DestinationRule subset sets, pod labels, each from a list-then-watch (runtime/reflector.ts) instead
// of GETs per limiter per refresh. Each watch starts with the first limiter that needs it: a cluster
// without adaptive limits watches neither, one without subset sets no pods. Their changes do not
// trigger a reconcile: the engine reads them at its next refresh.
import type { Logger } from "pino";
import type { KubeObject } from "../k8s/objects";
import type { KubeHttp } from "../runtime/kube_http";
import { Reflector } from "../runtime/reflector";
import { apiVersionOf, collectionPath } from "../runtime/resources";
import { SERVICE_NAME_LABEL, type EndpointSlice } from "./pods";

type Labels = Record<string, string>;

/** A pod as kept: name, namespace and labels (the engine reads nothing else). */
function podMetadata(pod: KubeObject): KubeObject {
  const { name, namespace, labels } = pod.metadata;
  return { apiVersion: pod.apiVersion, kind: pod.kind, metadata: { name, namespace, labels: labels ?? {} } };
}

export class PodWatches {
  private slices?: Reflector;
  private pods?: Reflector;

  constructor(private readonly http: KubeHttp, private readonly log: Logger) {}

  /**
   * Starts the watches needed and waits (at most `timeoutMs`) for their first list. Undefined when
   * they have listed, else why not: the engine then reports the pods unknown and keeps the last quotas.
   */
  async ready(needPodLabels: boolean, timeoutMs: number): Promise<string | undefined> {
    // Only the slices that belong to a Service (the label names it).
    this.slices ??= this.watch("discovery.k8s.io", "EndpointSlice", "endpointslices", { labelSelector: SERVICE_NAME_LABEL });
    if (needPodLabels) this.pods ??= this.watch("", "Pod", "pods", { keep: podMetadata });
    const watches = [this.slices, ...(needPodLabels ? [this.pods!] : [])];
    if (watches.every((w) => w.isSynced)) return undefined;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(watches.map((w) => w.hasSynced)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
    const pending = watches.filter((w) => !w.isSynced).map((w) => w.spec.kind);
    return pending.length === 0 ? undefined : `the ${pending.join(" and ")} watch has not listed yet`;
  }

  /** The EndpointSlices of the given services ("namespace/service"). */
  slicesOf(services: ReadonlySet<string>): EndpointSlice[] {
    const out: EndpointSlice[] = [];
    for (const s of (this.slices?.list() ?? []) as unknown as EndpointSlice[]) {
      if (services.has(`${s.metadata.namespace ?? ""}/${s.metadata.labels?.[SERVICE_NAME_LABEL] ?? ""}`)) out.push(s);
    }
    return out;
  }

  podLabels(namespace: string, name: string): Labels | undefined {
    return this.pods?.get(namespace, name)?.metadata.labels;
  }

  stop(): void {
    this.slices?.stop();
    this.pods?.stop();
  }

  private watch(group: string, kind: string, plural: string, extra: { labelSelector?: string; keep?: (o: KubeObject) => KubeObject }): Reflector {
    const spec = { path: collectionPath(group, "v1", plural), apiVersion: apiVersionOf(group, "v1"), kind, ...extra };
    const reflector = new Reflector(this.http, spec, () => {}, this.log);
    reflector.start();
    this.log.info({ resource: plural }, "watching (adaptive limits)");
    return reflector;
  }
}
