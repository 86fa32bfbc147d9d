// The seam for inputs that are not Kubernetes watches (e.g. adaptive limits: quotas computed from
// Prometheus on a timer, issue "adaptive"). A source can
// - trigger a reconcile when its data changed (`start(trigger)`),
// - add its data to the snapshot the translation reads (`contribute`), so the translation stays pure,
// - act after each reconcile by the leader (`afterReconcile`), e.g. write status.metricStatus /
//   status.ratelimitStatus of the objects it reads, through the same API client and only while leading.
import type { Snapshot } from "../translate/snapshot";
import type { TranslateResult } from "../translate/translate";
import type { KubeHttp } from "./kube_http";

export interface ReconcileContext {
  snapshot: Snapshot;
  result: TranslateResult;
  http: KubeHttp;
  /** False as soon as this replica is no longer the leader: check before every write. */
  mayWrite: () => boolean;
}

export interface SnapshotSource {
  readonly name: string;
  start?(trigger: () => void): void | Promise<void>;
  stop?(): void | Promise<void>;
  contribute?(snapshot: Snapshot): void;
  afterReconcile?(ctx: ReconcileContext): Promise<void>;
}
