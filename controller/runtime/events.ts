// Kubernetes Events for diagnostics that have no status to go to: those about Services, ServiceEntries
// and DestinationRules (Meltemi does not own their status), and those of inputs whose status could not
// be written. Each (object, reason, message) is recorded once per process, not on every reconcile.
import type { Logger } from "pino";
import { describeRef, type ObjectRef } from "../k8s/objects";
import type { KubeHttp } from "./kube_http";

const COMPONENT = "meltemi-controller";
const MAX_REMEMBERED = 10_000;
const MAX_MESSAGE = 1024; // the API server truncates longer event messages anyway

export class EventRecorder {
  private readonly recorded = new Set<string>();

  constructor(private readonly http: KubeHttp, private readonly log: Logger, private readonly defaultNamespace: string) {}

  /** Records a Warning (or Normal) event about `object` unless this exact one was recorded before. */
  async record(object: ObjectRef, type: "Warning" | "Normal", reason: string, message: string): Promise<boolean> {
    const key = `${object.uid ?? describeRef(object)}|${reason}|${message}`;
    if (this.recorded.has(key)) return false;
    if (this.recorded.size >= MAX_REMEMBERED) this.recorded.clear();
    // Events of cluster-scoped objects live in a namespace too; kubectl looks in "default".
    const namespace = object.namespace ?? this.defaultNamespace;
    const now = new Date().toISOString();
    const involvedObject: Record<string, string> = { apiVersion: object.apiVersion, kind: object.kind, name: object.name };
    if (object.namespace) involvedObject.namespace = object.namespace;
    if (object.uid) involvedObject.uid = object.uid;
    try {
      await this.http.request("POST", `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, {
        body: {
          apiVersion: "v1",
          kind: "Event",
          metadata: { generateName: `${object.name}.`.slice(0, 200), namespace },
          involvedObject,
          reason,
          message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message,
          type,
          source: { component: COMPONENT },
          reportingComponent: COMPONENT,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
      this.recorded.add(key);
      return true;
    } catch (err) {
      this.log.warn({ object: describeRef(object), reason, err: String((err as Error).message) }, "could not record an event");
      return false;
    }
  }
}
